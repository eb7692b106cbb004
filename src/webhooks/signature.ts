import { createHmac, timingSafeEqual } from "node:crypto";

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

export interface SignatureInput {
  rawBody: Buffer | string;
  /** The X-Postproxy-Signature header: `t=<timestamp>,v1=<hex>[,v1=<hex>…]`. */
  header: string | undefined;
  /** Every secret currently accepted (more than one while rotating). */
  secrets: readonly string[];
  /** Seconds since the epoch, as the caller's clock says. */
  nowSeconds: number;
  /** Reject a `t` further than this from now; undefined = no limit (Postproxy retries for hours). */
  toleranceSeconds?: number;
}

/** Postproxy's scheme: v1 = hex(HMAC-SHA256(secret, t + "." + raw body)). Accepts when any v1 matches any secret. */
export function verifySignature({ rawBody, header, secrets, nowSeconds, toleranceSeconds }: SignatureInput): SignatureCheck {
  if (!header) return { ok: false, reason: "Missing X-Postproxy-Signature header" };
  const parts = header.split(",").map((part) => part.trim().split("="));
  const timestamp = parts.find(([key]) => key === "t")?.[1];
  const candidates = parts.filter(([key, value]) => key === "v1" && value).map(([, value]) => value);
  if (!timestamp || !/^\d+$/.test(timestamp)) return { ok: false, reason: "X-Postproxy-Signature has no timestamp t=<seconds>" };
  if (candidates.length === 0) return { ok: false, reason: "X-Postproxy-Signature has no v1=<signature>" };
  if (toleranceSeconds !== undefined && Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds)
    return { ok: false, reason: `X-Postproxy-Signature timestamp is more than ${toleranceSeconds} s from now` };
  // Fed in two parts rather than concatenated: no copy of the body per request.
  const expected = secrets.map((secret) => createHmac("sha256", secret).update(`${timestamp}.`).update(rawBody).digest());
  const matches = candidates.some((candidate) => {
    const given = Buffer.from(candidate, "hex");
    // A hex string that does not decode to 32 bytes cannot match; timingSafeEqual needs equal lengths.
    return given.length === 32 && candidate.length === 64 && expected.some((digest) => timingSafeEqual(given, digest));
  });
  return matches
    ? { ok: true }
    : { ok: false, reason: "X-Postproxy-Signature matches no configured secret (check the secret and that the body is sent unmodified)" };
}

/** The header Postproxy would send for this body: for tests, the benchmark and the demo. */
export function signatureHeader(secret: string, rawBody: Buffer | string, timestampSeconds: number): string {
  const digest = createHmac("sha256", secret).update(`${timestampSeconds}.`).update(rawBody).digest("hex");
  return `t=${timestampSeconds},v1=${digest}`;
}
