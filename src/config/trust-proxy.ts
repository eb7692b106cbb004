import { isIP } from "node:net";

/** Fastify's trustProxy: trust every proxy, the nearest hops, or proxies at these addresses and ranges. */
export type TrustProxy = boolean | string[] | ((address: string, hop: number) => boolean);

// proxy-addr's names for the loopback, link-local and unique-local ranges.
const NAMED_RANGES = new Set(["loopback", "linklocal", "uniquelocal"]);

/**
 * TRUST_PROXY as Fastify's trustProxy, or a message saying what is wrong with it: unset or false (X-Forwarded-For
 * ignored), true, a hop count, or comma-separated addresses, CIDR ranges and proxy-addr's named ranges.
 */
export function trustProxy(setting: string | undefined): TrustProxy | string {
  const text = (setting ?? "").trim();
  if (text === "" || text.toLowerCase() === "false") return false;
  if (text.toLowerCase() === "true") return true;
  if (/^\d+$/.test(text)) {
    // What Fastify does with a number (its types do not take one): trust the nearest `hops` proxies.
    const hops = Number(text);
    return (_address, hop) => hop < hops;
  }
  const entries = text.split(",").map((entry) => entry.trim());
  const wrong = entries.find((entry) => !isAddressOrRange(entry));
  if (wrong !== undefined) return `'${wrong}' is neither an address, a CIDR range nor loopback, linklocal or uniquelocal`;
  return entries;
}

function isAddressOrRange(entry: string): boolean {
  if (NAMED_RANGES.has(entry)) return true;
  const [address, prefix, ...rest] = entry.split("/");
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128);
}
