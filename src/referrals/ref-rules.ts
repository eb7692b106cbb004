// Meta's rules for the ref parameter of ig.me / m.me links: at most 2,083 characters of A–Z a–z 0–9 - _ =.
export const MAX_REF_LENGTH = 2083;
const REF_CHARACTERS = /^[A-Za-z0-9\-_=]*$/;

/** Why a ref breaks Meta's rules, or null when it is valid. */
export function refProblem(ref: unknown): string | null {
  if (typeof ref !== "string") return "ref is missing or not a string";
  if (ref === "") return "ref is empty";
  if (ref.length > MAX_REF_LENGTH) return `ref is ${ref.length} characters long; Meta allows at most ${MAX_REF_LENGTH}`;
  if (!REF_CHARACTERS.test(ref)) return "ref contains a character outside A-Z a-z 0-9 - _ =";
  return null;
}
