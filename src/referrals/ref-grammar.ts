/** What a ref says about its campaign, parsed by the configured grammar and stored beside the raw ref. */
export interface ParsedRef {
  campaign: string | null;
  channel: string | null;
  variant: string | null;
  tags: { key: string; value: string }[];
}

/** Turns a raw ref into its parts; built once from REF_GRAMMAR. */
export type RefGrammar = (ref: string) => ParsedRef;

const PART_OF: Record<string, keyof Omit<ParsedRef, "tags">> = {
  c: "campaign",
  campaign: "campaign",
  ch: "channel",
  channel: "channel",
  v: "variant",
  variant: "variant",
};
const SEPARATOR = "--";
const PLACEHOLDER = /\{([a-z][a-z0-9_]*)\}/g;

const allCampaign = (ref: string): ParsedRef => ({ campaign: ref, channel: null, variant: null, tags: [] });

function assign(parsed: ParsedRef, key: string, value: string): void {
  const part = PART_OF[key.toLowerCase()];
  if (part && parsed[part] === null) parsed[part] = value;
  else parsed.tags.push({ key, value });
}

/**
 * The default grammar: segments separated by `--`; `key=value` sets campaign (c), channel (ch) or variant (v), any
 * other key becomes a tag. Segments without `=` form the campaign when no `c=` names it (so a ref with no
 * `key=value` segment is all campaign, and `summer--ch=bio` is campaign summer on channel bio); otherwise they are
 * kept as `segment` tags.
 */
export function parseKeyValueRef(ref: string): ParsedRef {
  const parsed: ParsedRef = { campaign: null, channel: null, variant: null, tags: [] };
  const loose: string[] = [];
  for (const segment of ref.split(SEPARATOR)) {
    const at = segment.indexOf("=");
    if (at > 0 && at < segment.length - 1) assign(parsed, segment.slice(0, at), segment.slice(at + 1));
    else loose.push(segment);
  }
  if (loose.length > 0) {
    if (parsed.campaign === null) parsed.campaign = loose.join(SEPARATOR);
    else parsed.tags.push(...loose.map((value) => ({ key: "segment", value })));
  }
  return parsed;
}

/**
 * A positional template such as `{campaign}--{channel}--{variant}`: literal text between placeholders, each
 * placeholder matching a non-empty piece (placeholders other than campaign, channel and variant become tags).
 * Returns the problem when the template is unusable.
 */
export function templateGrammar(template: string): RefGrammar | string {
  const names = [...template.matchAll(PLACEHOLDER)].map((m) => m[1]);
  if (names.length === 0) return "must contain at least one placeholder such as {campaign}";
  if (new Set(names).size !== names.length) return "must not repeat a placeholder";
  const literals = template.split(PLACEHOLDER).filter((_, i) => i % 2 === 0);
  if (literals.slice(1, -1).some((literal) => literal === "")) return "needs literal text between placeholders (e.g. --)";
  if (literals.some((literal) => /[{}]/.test(literal))) return "has a brace outside a {name} placeholder";
  return (ref) => {
    const pieces = splitByLiterals(ref, literals);
    if (!pieces) return allCampaign(ref);
    const parsed: ParsedRef = { campaign: null, channel: null, variant: null, tags: [] };
    names.forEach((name, i) => assign(parsed, name, pieces[i]));
    return parsed;
  };
}

/**
 * The non-empty pieces between a template's literals (literals[0] before the first piece, the last one after the
 * last), each ending at the next literal's first occurrence; null when the ref does not fit. Linear in the ref's
 * length: a backtracking regex can take minutes on a crafted 2,083-character ref.
 */
function splitByLiterals(ref: string, literals: string[]): string[] | null {
  const head = literals[0];
  const tail = literals[literals.length - 1];
  if (ref.length < head.length + tail.length || !ref.startsWith(head) || !ref.endsWith(tail)) return null;
  const body = ref.slice(head.length, ref.length - tail.length);
  const pieces: string[] = [];
  let start = 0;
  for (const literal of literals.slice(1, -1)) {
    const at = body.indexOf(literal, start + 1);
    if (at < 0) return null;
    pieces.push(body.slice(start, at));
    start = at + literal.length;
  }
  pieces.push(body.slice(start));
  return pieces.every((piece) => piece !== "") ? pieces : null;
}

/** REF_GRAMMAR unset or empty selects the default key=value grammar; anything else is a template. */
export function refGrammar(setting: string | undefined): RefGrammar | string {
  return setting ? templateGrammar(setting) : parseKeyValueRef;
}

/** The referral table's columns for a parsed ref: tags as JSON text, null when there are none. */
export function storedParts({ campaign, channel, variant, tags }: ParsedRef) {
  return { campaign, channel, variant, tags: tags.length > 0 ? JSON.stringify(tags) : null };
}

/** A parsed ref back from the referral table's columns. */
export function partsOf(row: ReturnType<typeof storedParts>): ParsedRef {
  return { campaign: row.campaign, channel: row.channel, variant: row.variant, tags: row.tags ? JSON.parse(row.tags) : [] };
}
