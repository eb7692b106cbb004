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

const MAX_PATTERN_LENGTH = 2083;

/** Why a ref pattern is unusable, or null: Meta's ref characters (A–Z a–z 0–9 - _ =) plus the wildcards * and ?. */
export function patternProblem(pattern: string): string | null {
  if (pattern.length === 0 || pattern.length > MAX_PATTERN_LENGTH) return `must be 1 to ${MAX_PATTERN_LENGTH} characters`;
  const bad = pattern.match(/[^A-Za-z0-9_=*?-]/);
  return bad ? `may hold only A-Z a-z 0-9 - _ = and the wildcards * and ?, not '${bad[0]}'` : null;
}

/** Case-insensitive glob: `*` any run of characters, `?` any one; the rest matches itself. */
export function globMatches(pattern: string, ref: string): boolean {
  const source = [...pattern].map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&"))).join("");
  return new RegExp(`^${source}$`, "is").test(ref);
}

/** Why a template is unusable, or null: every {{…}} must name a known placeholder, and braces must pair. */
export function templateProblem(template: string): string | null {
  const unknown = [...template.matchAll(/\{\{\s*([^{}]*?)\s*\}\}/g)].map((m) => m[1]).find((name) => !(PLACEHOLDERS as readonly string[]).includes(name));
  if (unknown !== undefined) return `names an unknown placeholder {{${unknown}}}; known: ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(", ")}`;
  if (/\{\{|\}\}/.test(template.replace(/\{\{\s*[^{}]*?\s*\}\}/g, ""))) return "has a {{ or }} that does not pair up";
  return null;
}

/** The template with each placeholder replaced by its value (empty when unknown). */
export function renderTemplate(template: string, values: Record<Placeholder, string | null>): string {
  return template.replace(/\{\{\s*([^{}]*?)\s*\}\}/g, (_, name: Placeholder) => values[name] ?? "");
}

/** The rule a referral gets: the enabled ones whose pattern and platform match, highest priority first, then oldest. */
export function chooseRule<R extends RuleCandidate>(rules: readonly R[], referral: { ref: string; platform: string | null }): R | null {
  const matching = rules.filter((rule) => rule.enabled && (rule.platform === null || rule.platform === referral.platform) && globMatches(rule.refPattern, referral.ref));
  matching.sort((a, b) => b.priority - a.priority || a.createdAt.getTime() - b.createdAt.getTime());
  return matching[0] ?? null;
}
