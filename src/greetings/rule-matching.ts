// The rules of automated greetings, pure: which rule a referral gets, and what its template says.

export enum GreetingTrigger {
  /** Greet as the referral arrives. */
  ON_REFERRAL = "ON_REFERRAL",
  /** Wait for the chat's first inbound message after the referral, then greet. */
  ON_FIRST_MESSAGE = "ON_FIRST_MESSAGE",
}

export interface RuleCandidate {
  refPattern: string;
  platform: string | null;
  priority: number;
  enabled: boolean;
  createdAt: Date;
}

/** What a template may say, and where each value comes from. */
export const PLACEHOLDERS = ["ref", "campaign", "channel", "variant", "participant.name"] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

// Generous for real rules (`c=summer--ch=*`, `summer*-*-*-*-b`). A match takes at most ref × pattern steps, so the
// length cap bounds one rule against a 2,083-character ref to about half a million.
export const MAX_PATTERN_LENGTH = 256;
export const MAX_PATTERN_STARS = 16;

/** Why a ref pattern is unusable, or null: Meta's ref characters (A–Z a–z 0–9 - _ =) plus the wildcards * and ?. */
export function patternProblem(pattern: string): string | null {
  if (pattern.length === 0 || pattern.length > MAX_PATTERN_LENGTH) return `must be 1 to ${MAX_PATTERN_LENGTH} characters`;
  const bad = pattern.match(/[^A-Za-z0-9_=*?-]/);
  if (bad) return `may hold only A-Z a-z 0-9 - _ = and the wildcards * and ?, not '${bad[0]}'`;
  const stars = pattern.split("*").length - 1;
  return stars > MAX_PATTERN_STARS ? `may hold at most ${MAX_PATTERN_STARS} * (holds ${stars})` : null;
}

// A–Z to a–z, anything else as it is: what a regex's `i` flag does for ASCII patterns (it never folds a
// non-ASCII character onto an ASCII one).
const folded = (code: number) => (code >= 65 && code <= 90 ? code + 32 : code);

/**
 * Case-insensitive glob: `*` any run of characters, `?` any one UTF-16 code unit; the rest matches itself.
 * Greedy, remembering only the last `*`: when a later part fails, that `*` takes one more character and the
 * rest is tried again. Earlier stars never need revisiting, so this takes at most ref × pattern steps, where a
 * backtracking regex took exponential time (`*a*a*a*a*a*a*b` on 2,083 `a` froze the process).
 */
export function globMatches(pattern: string, ref: string): boolean {
  let p = 0;
  let r = 0;
  let star = -1; // the last `*` seen, and the ref position it currently stops at
  let starEnd = 0;
  while (r < ref.length) {
    if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      starEnd = r;
    } else if (p < pattern.length && (pattern[p] === "?" || folded(pattern.charCodeAt(p)) === folded(ref.charCodeAt(r)))) {
      p++;
      r++;
    } else if (star >= 0) {
      p = star + 1;
      r = ++starEnd;
    } else return false;
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}

type TemplatePart = { text: string } | { placeholder: string };

/**
 * A template as literal text and `{{ name }}` placeholders (name trimmed), read left to right: a `{{` opens a
 * placeholder when only non-brace characters lie between it and the next `}}`. A plain scan, linear in the
 * template: the regex it replaces took seconds on `{{` followed by a few thousand spaces.
 */
function templateParts(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let textStart = 0;
  let open = template.indexOf("{{");
  while (open >= 0) {
    let close = open + 2;
    while (close < template.length && template[close] !== "{" && template[close] !== "}") close++;
    if (template.startsWith("}}", close)) {
      parts.push({ text: template.slice(textStart, open) }, { placeholder: template.slice(open + 2, close).trim() });
      textStart = close + 2;
      open = template.indexOf("{{", textStart);
    } else open = template.indexOf("{{", open + 1);
  }
  parts.push({ text: template.slice(textStart) });
  return parts;
}

const isPlaceholder = (name: string): name is Placeholder => (PLACEHOLDERS as readonly string[]).includes(name);

/** Why a template is unusable, or null: every {{…}} must name a known placeholder, and braces must pair. */
export function templateProblem(template: string): string | null {
  const parts = templateParts(template);
  const unknown = parts.find((part) => "placeholder" in part && !isPlaceholder(part.placeholder));
  if (unknown && "placeholder" in unknown)
    return `names an unknown placeholder {{${unknown.placeholder}}}; known: ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(", ")}`;
  const text = parts.map((part) => ("text" in part ? part.text : "")).join("");
  if (text.includes("{{") || text.includes("}}")) return "has a {{ or }} that does not pair up";
  return null;
}

/** The template with each placeholder replaced by its value (empty when unknown). */
export function renderTemplate(template: string, values: Record<Placeholder, string | null>): string {
  return templateParts(template)
    .map((part) => ("text" in part ? part.text : isPlaceholder(part.placeholder) ? (values[part.placeholder] ?? "") : ""))
    .join("");
}

/** The rule a referral gets: the enabled ones whose pattern and platform match, highest priority first, then oldest. */
export function chooseRule<R extends RuleCandidate>(rules: readonly R[], referral: { ref: string; platform: string | null }): R | null {
  const matching = rules.filter((rule) => rule.enabled && (rule.platform === null || rule.platform === referral.platform) && globMatches(rule.refPattern, referral.ref));
  matching.sort((a, b) => b.priority - a.priority || a.createdAt.getTime() - b.createdAt.getTime());
  return matching[0] ?? null;
}
