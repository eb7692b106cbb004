import { AddressInfo } from "node:net";
import { sampleValue, scrape } from "../helpers/metrics";
import { ADMIN_KEY, startServer, TestServer } from "../helpers/server";

// With METRICS_PORT, /metrics has a listener of its own, without a key, and is gone from the main port.

let server: TestServer;
let metricsUrl: string;

beforeAll(async () => {
  server = await startServer({ METRICS_PORT: "0" });
  const address = server.app.metricsServer?.server.address() as AddressInfo;
  metricsUrl = `http://127.0.0.1:${address.port}`;
});
afterAll(() => server.close());

test("the metrics port serves /metrics without a key", async () => {
  expect((await server.deliver({ id: "evt_on_port", object: "event", type: "unknown.type", created_at: new Date().toISOString(), data: {} })).status).toBe(200);
  const { status, contentType, text } = await scrape(metricsUrl);
  expect(status).toBe(200);
  expect(contentType).toBe("text/plain; version=0.0.4; charset=utf-8");
  expect(sampleValue(text, "refgraph_webhook_deliveries_total", { status: "200" })).toBe(1);
});

test("the main port answers 404 for /metrics, even with a valid key", async () => {
  const { status, text } = await scrape(server.url, ADMIN_KEY);
  expect(status).toBe(404);
  expect(JSON.parse(text)).toMatchObject({ code: "NOT_FOUND" });
});

test("the metrics port has nothing else, and the metrics listener closes with the app", async () => {
  expect((await fetch(`${metricsUrl}/graphql`)).status).toBe(404);
  const other = await startServer({ METRICS_PORT: "0" });
  const { port } = other.app.metricsServer?.server.address() as AddressInfo;
  await other.close();
  await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
});
