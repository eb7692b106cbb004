import { ADMIN_KEY, startServer, TestServer } from "../helpers/server";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ CORS_ORIGINS: "https://app.example.com,http://localhost:5173" });
});
afterAll(() => server.close());

const preflight = (origin: string) =>
  fetch(`${server.url}/graphql`, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" },
  });

test("a browser on a configured origin may call /graphql", async () => {
  const response = await preflight("https://app.example.com");
  expect(response.status).toBeLessThan(300);
  expect(response.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
});

test("a browser on any other origin gets no CORS permission", async () => {
  const response = await preflight("https://evil.example.net");
  expect(response.headers.get("access-control-allow-origin")).toBeNull();
});

test("a browser on a configured origin may download an export", async () => {
  const response = await fetch(`${server.url}/exports/referrals.csv`, { headers: { origin: "https://app.example.com", authorization: `Bearer ${ADMIN_KEY}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
});

test("webhook deliveries and probes, which no browser calls, carry no CORS headers", async () => {
  const delivery = await fetch(`${server.url}/webhooks/postproxy`, { method: "POST", headers: { origin: "https://app.example.com" }, body: "{}" });
  const probe = await fetch(`${server.url}/healthz`, { headers: { origin: "https://app.example.com" } });
  for (const response of [delivery, probe]) {
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    expect(response.headers.get("vary")).toBeNull();
  }
});

test("without CORS_ORIGINS no origin is allowed", async () => {
  const closed = await startServer();
  try {
    const response = await fetch(`${closed.url}/graphql`, {
      method: "OPTIONS",
      headers: { origin: "https://app.example.com", "access-control-request-method": "POST" },
    });
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  } finally {
    await closed.close();
  }
});
