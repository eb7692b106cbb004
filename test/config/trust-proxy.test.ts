import { ConfigError, loadConfig } from "../../src/config/config";
import { trustProxy } from "../../src/config/trust-proxy";

describe("trustProxy", () => {
  test("unset, empty or false trusts no proxy: X-Forwarded-For is ignored", () => {
    for (const setting of [undefined, "", "  ", "false", "FALSE"]) expect(trustProxy(setting)).toBe(false);
  });

  test("true trusts every proxy", () => {
    expect(trustProxy("true")).toBe(true);
    expect(trustProxy(" True ")).toBe(true);
  });

  test("a hop count trusts that many proxies nearest to refgraph", () => {
    const trust = trustProxy("2") as (address: string, hop: number) => boolean;
    expect([0, 1, 2, 3].map((hop) => trust("10.0.0.1", hop))).toEqual([true, true, false, false]);
    expect((trustProxy("0") as (address: string, hop: number) => boolean)("10.0.0.1", 0)).toBe(false);
  });

  test("comma-separated addresses, CIDR ranges and proxy-addr's named ranges are passed on as a list", () => {
    expect(trustProxy("10.0.0.1, 192.168.0.0/16,::1,fd00::/8,loopback,linklocal,uniquelocal")).toEqual([
      "10.0.0.1",
      "192.168.0.0/16",
      "::1",
      "fd00::/8",
      "loopback",
      "linklocal",
      "uniquelocal",
    ]);
  });

  test.each([
    ["a host name", "proxy.internal", "'proxy.internal'"],
    ["an IPv4 prefix over 32", "10.0.0.0/33", "'10.0.0.0/33'"],
    ["an IPv6 prefix over 128", "::/129", "'::/129'"],
    ["a prefix that is not a number", "10.0.0.0/x", "'10.0.0.0/x'"],
    ["two slashes", "10.0.0.0/8/8", "'10.0.0.0/8/8'"],
    ["an empty entry", "10.0.0.1,,10.0.0.2", "''"],
    ["yes", "yes", "'yes'"],
  ])("%s is refused, naming the entry", (_what, setting, named) => {
    expect(trustProxy(setting)).toEqual(expect.stringContaining(named));
  });
});

describe("rate limit and proxy configuration", () => {
  test("defaults: 100 requests per key and 10 per address in windows of 10 s, no proxy trusted", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ rateLimitPerKey: 100, rateLimitPerAddress: 10, rateLimitWindowSeconds: 10 });
    expect(config.trustedProxies).toBe(false);
  });

  test("each variable is read, 0 included (no limit)", () => {
    const config = loadConfig({ RATE_LIMIT_PER_KEY: "0", RATE_LIMIT_PER_ADDRESS: "5", RATE_LIMIT_WINDOW_SECONDS: "60", TRUST_PROXY: "127.0.0.1" });
    expect(config).toMatchObject({ rateLimitPerKey: 0, rateLimitPerAddress: 5, rateLimitWindowSeconds: 60 });
    expect(config.trustedProxies).toEqual(["127.0.0.1"]);
  });

  test("a bad value stops the start, naming the variable and the value", () => {
    let message = "";
    try {
      loadConfig({ RATE_LIMIT_PER_KEY: "-1", RATE_LIMIT_PER_ADDRESS: "lots", RATE_LIMIT_WINDOW_SECONDS: "0", TRUST_PROXY: "proxy.internal" });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message).toContain('RATE_LIMIT_PER_KEY: must not be less than 0 (got "-1")');
    expect(message).toContain('RATE_LIMIT_PER_ADDRESS: must be a whole number of requests per window (got "lots")');
    expect(message).toContain('RATE_LIMIT_WINDOW_SECONDS: must not be less than 1 (got "0")');
    expect(message).toContain("TRUST_PROXY: must be true, a hop count, or comma-separated addresses or CIDR ranges of your proxies: 'proxy.internal'");
  });
});
