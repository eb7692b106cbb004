// What a stranger's strings may be before they reach the database. Either database must store an event the same
// way: PostgreSQL's text refuses the NUL character, and a lone surrogate has no UTF-8 form (node-postgres and
// SQLite would each encode it their own way).

/** Longest id, in UTF-8 bytes, refgraph keeps in a key column (ids are Postproxy's or the platforms'; none is long). */
export const MAX_KEY_BYTES = 255;
/** Deepest nesting of objects and arrays a webhook body may have (Postproxy's go about 5 deep). */
export const MAX_JSON_DEPTH = 64;

/** Why a string cannot be a key (an id stored in a key column), or null when it can. */
export function keyProblem(value: string): string | null {
  const bytes = Buffer.byteLength(value);
  if (bytes > MAX_KEY_BYTES) return `is ${bytes} bytes long; at most ${MAX_KEY_BYTES} are allowed`;
  if (value.includes("\0")) return "contains a NUL character";
  if (!value.isWellFormed()) return "contains a lone surrogate";
  return null;
}

/** Free text as both databases can store it alike: NUL and lone surrogates become U+FFFD. */
export const storableText = (value: string): string => value.toWellFormed().replaceAll("\0", "\uFFFD");

const [QUOTE, BACKSLASH, OPEN_BRACE, OPEN_BRACKET, CLOSE_BRACE, CLOSE_BRACKET] = [0x22, 0x5c, 0x7b, 0x5b, 0x7d, 0x5d];

/** Whether JSON text nests objects and arrays deeper than `limit`, found in one pass without parsing. */
export function nestsDeeperThan(json: string, limit: number): boolean {
  // No deeper than it opens objects and arrays: counted by indexOf, which outruns the walk below on every body.
  let openings = 0;
  for (const open of ["{", "["]) for (let i = json.indexOf(open); i !== -1 && openings <= limit; i = json.indexOf(open, i + 1)) openings++;
  if (openings <= limit) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return false;
}
