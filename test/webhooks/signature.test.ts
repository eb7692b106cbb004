import { createHmac } from "node:crypto";
import fc from "fast-check";
import { verifySignature as sdkVerify } from "postproxy-sdk";
import { signatureHeader, verifySignature } from "../../src/webhooks/signature";

const SECRET = "whsec_test_secret";
const NOW = 1_787_000_000;
const BODY = JSON.stringify({ id: "evt_1", type: "referral.received", data: { object: { chat: "ch_1", ref: "summer" } } });

const digest = (secret: string, timestamp: number | string, body: string) =>
  createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");

const verify = (header: string | undefined, options: { body?: Buffer | string; secrets?: string[]; now?: number; tolerance?: number } = {}) =>
  verifySignature({
    rawBody: options.body ?? BODY,
    header,
    secrets: options.secrets ?? [SECRET],
    nowSeconds: options.now ?? NOW,
    toleranceSeconds: options.tolerance,
  });

describe("verifySignature", () => {
  test("a header made with the secret over the exact body is accepted", () => {
    expect(verify(signatureHeader(SECRET, BODY, NOW))).toEqual({ ok: true });
  });

  test("a body changed after signing is rejected, naming the likely cause", () => {
    const result = verify(signatureHeader(SECRET, BODY, NOW), { body: BODY.replace("summer", "winter") });
    expect(result.ok).toBe(false);
    expect(result).toMatchObject({ reason: expect.stringMatching(/matches no configured secret.*body is sent unmodified/) });
  });

  test("a header made with another secret is rejected", () => {
    expect(verify(signatureHeader("whsec_other", BODY, NOW)).ok).toBe(false);
  });

  test("a missing or empty header is rejected as missing", () => {
    expect(verify(undefined)).toEqual({ ok: false, reason: "Missing X-Postproxy-Signature header" });
    expect(verify("")).toEqual({ ok: false, reason: "Missing X-Postproxy-Signature header" });
  });

  test("a header without t is rejected for its missing timestamp", () => {
    expect(verify(`v1=${digest(SECRET, NOW, BODY)}`)).toEqual({ ok: false, reason: "X-Postproxy-Signature has no timestamp t=<seconds>" });
  });

  test("a header without v1, or with an empty v1, is rejected for its missing signature", () => {
    const reason = "X-Postproxy-Signature has no v1=<signature>";
    expect(verify(`t=${NOW}`)).toEqual({ ok: false, reason });
    expect(verify(`t=${NOW},v1=`)).toEqual({ ok: false, reason });
    expect(verify(`t=${NOW},v0=${digest(SECRET, NOW, BODY)}`)).toEqual({ ok: false, reason });
  });

  test.each(["abc", "-5", "1.5", "1e9", ""])("a timestamp t=%p that is not whole seconds is rejected, even when signed", (t) => {
    expect(verify(`t=${t},v1=${digest(SECRET, t, BODY)}`)).toEqual({ ok: false, reason: "X-Postproxy-Signature has no timestamp t=<seconds>" });
  });

  test("spaces after the commas of the header are tolerated", () => {
    expect(verify(`t=${NOW}, v1=${digest(SECRET, NOW, BODY)}`).ok).toBe(true);
  });

  test("two v1 values are accepted when one of them matches, whichever comes first", () => {
    const good = digest(SECRET, NOW, BODY);
    const bad = digest("whsec_other", NOW, BODY);
    expect(verify(`t=${NOW},v1=${bad},v1=${good}`).ok).toBe(true);
    expect(verify(`t=${NOW},v1=${good},v1=${bad}`).ok).toBe(true);
  });

  test("two v1 values are rejected when neither matches", () => {
    const bad1 = digest("whsec_other", NOW, BODY);
    const bad2 = digest(SECRET, NOW + 1, BODY);
    expect(verify(`t=${NOW},v1=${bad1},v1=${bad2}`).ok).toBe(false);
  });

  test("while a secret rotates, a header made with any of the configured secrets is accepted", () => {
    const secrets = ["whsec_old", "whsec_new"];
    expect(verify(signatureHeader("whsec_old", BODY, NOW), { secrets }).ok).toBe(true);
    expect(verify(signatureHeader("whsec_new", BODY, NOW), { secrets }).ok).toBe(true);
    expect(verify(signatureHeader("whsec_retired", BODY, NOW), { secrets }).ok).toBe(false);
  });

  test("with no secret configured nothing is accepted", () => {
    expect(verify(signatureHeader(SECRET, BODY, NOW), { secrets: [] }).ok).toBe(false);
  });

  describe("tolerance", () => {
    test("without a tolerance a timestamp of any age is accepted", () => {
      expect(verify(signatureHeader(SECRET, BODY, 1), { now: NOW }).ok).toBe(true);
      expect(verify(signatureHeader(SECRET, BODY, NOW + 86_400 * 365), { now: NOW }).ok).toBe(true);
    });

    test("a timestamp exactly the tolerance in the past is accepted and one second older is rejected", () => {
      expect(verify(signatureHeader(SECRET, BODY, NOW - 300), { tolerance: 300 }).ok).toBe(true);
      expect(verify(signatureHeader(SECRET, BODY, NOW - 301), { tolerance: 300 })).toEqual({
        ok: false,
        reason: "X-Postproxy-Signature timestamp is more than 300 s from now",
      });
    });

    test("a timestamp exactly the tolerance in the future is accepted and one second further is rejected", () => {
      expect(verify(signatureHeader(SECRET, BODY, NOW + 300), { tolerance: 300 }).ok).toBe(true);
      expect(verify(signatureHeader(SECRET, BODY, NOW + 301), { tolerance: 300 }).ok).toBe(false);
    });

    test("a tolerance of zero accepts only the current second", () => {
      expect(verify(signatureHeader(SECRET, BODY, NOW), { tolerance: 0 }).ok).toBe(true);
      expect(verify(signatureHeader(SECRET, BODY, NOW - 1), { tolerance: 0 }).ok).toBe(false);
    });
  });

  describe("malformed v1 values are rejected without throwing", () => {
    const good = digest(SECRET, NOW, BODY);
    test.each([
      ["too short", good.slice(0, 62)],
      ["too long", `${good}00`],
      ["of odd length", good.slice(0, 63)],
      ["non-hex at the right length", "z".repeat(64)],
      ["valid hex with its last character made non-hex", `${good.slice(0, 63)}g`],
      ["a single byte", "00"],
    ])("a v1 that is %s", (_what, v1) => {
      expect(() => verify(`t=${NOW},v1=${v1}`)).not.toThrow();
      expect(verify(`t=${NOW},v1=${v1}`).ok).toBe(false);
    });

    test("a malformed v1 beside a good one does not prevent acceptance", () => {
      expect(verify(`t=${NOW},v1=zz,v1=${good}`).ok).toBe(true);
    });
  });

  describe("bodies", () => {
    const unicode = JSON.stringify({ id: "evt_ü", type: "message.received", data: { message: { body: "héllo 👋 — 日本語" } } });

    test("a Buffer body verifies against a header signed over the same string", () => {
      expect(verify(signatureHeader(SECRET, BODY, NOW), { body: Buffer.from(BODY) }).ok).toBe(true);
    });

    test("a string body verifies against a header signed over the same bytes", () => {
      expect(verify(signatureHeader(SECRET, Buffer.from(BODY), NOW), { body: BODY }).ok).toBe(true);
    });

    test("non-ASCII UTF-8 is signed over its raw bytes, as a string or a Buffer", () => {
      const bytes = Buffer.from(unicode, "utf8");
      expect(bytes.length).toBeGreaterThan(unicode.length);
      const header = signatureHeader(SECRET, unicode, NOW);
      expect(header).toBe(`t=${NOW},v1=${digest(SECRET, NOW, unicode)}`);
      expect(verify(header, { body: bytes }).ok).toBe(true);
      expect(verify(header, { body: unicode }).ok).toBe(true);
    });

    test("non-ASCII bytes decoded with the wrong encoding no longer verify", () => {
      const header = signatureHeader(SECRET, unicode, NOW);
      const misread = Buffer.from(Buffer.from(unicode, "utf8").toString("latin1"), "utf8");
      expect(verify(header, { body: misread }).ok).toBe(false);
    });
  });
});

describe("signatureHeader agrees with the official postproxy-sdk", () => {
  // postproxy-sdk's verifySignature checks no timestamp tolerance, so any timestamp can be used here.
  test("a header from signatureHeader verifies with the SDK", () => {
    expect(sdkVerify(BODY, signatureHeader(SECRET, BODY, NOW), SECRET)).toBe(true);
    expect(sdkVerify(BODY, signatureHeader("whsec_other", BODY, NOW), SECRET)).toBe(false);
  });

  test("for any body, secret and timestamp, ours and the SDK agree on genuine and tampered headers", () => {
    const flipHex = (hex: string, at: number) => {
      const i = at % hex.length;
      const swapped = hex[i] === "0" ? "1" : "0";
      return hex.slice(0, i) + swapped + hex.slice(i + 1);
    };
    fc.assert(
      fc.property(
        fc.string({ unit: "binary" }),
        fc.string({ unit: "binary" }),
        fc.string({ unit: "binary", minLength: 1 }),
        fc.integer({ min: 0, max: 4_102_444_800 }),
        fc.nat(),
        (body, otherBody, secret, timestamp, position) => {
          fc.pre(body !== otherBody);
          const header = signatureHeader(secret, body, timestamp);
          const ours = (h: string, b: string) => verifySignature({ rawBody: b, header: h, secrets: [secret], nowSeconds: NOW }).ok;

          expect(sdkVerify(body, header, secret)).toBe(true);
          expect(ours(header, body)).toBe(true);

          expect(sdkVerify(otherBody, header, secret)).toBe(false);
          expect(ours(header, otherBody)).toBe(false);

          const [t, v1] = header.split(",");
          const forged = `${t},v1=${flipHex(v1.slice(3), position)}`;
          expect(sdkVerify(body, forged, secret)).toBe(false);
          expect(ours(forged, body)).toBe(false);
        },
      ),
    );
  });
});
