import { messageEvent, referralEvent } from "../helpers/events";
import { SECRET, startServer, TestServer } from "../helpers/server";
import { signatureHeader } from "../../src/webhooks/signature";

const servers: TestServer[] = [];
const start = async (env: Record<string, string>) => {
  const server = await startServer(env);
  servers.push(server);
  return server;
};
afterAll(() => Promise.all(servers.map((s) => s.close())));

const signedBy = (secret: string, body: string, t = Math.floor(Date.now() / 1000)) => ({ "x-postproxy-signature": signatureHeader(secret, body, t) });

test("while rotating, a delivery signed with either configured secret is accepted", async () => {
  const server = await start({ POSTPROXY_WEBHOOK_SECRET: "whsec_old_secret, whsec_new_secret" });
  for (const secret of ["whsec_old_secret", "whsec_new_secret"]) {
    const body = JSON.stringify(referralEvent({ chat: "ch_rot", ref: "r" }));
    expect((await server.postRaw(body, signedBy(secret, body))).status).toBe(200);
  }
  const body = JSON.stringify(referralEvent({ chat: "ch_rot", ref: "r" }));
  expect((await server.postRaw(body, signedBy("whsec_retired", body))).status).toBe(401);
});

test("with WEBHOOK_TOLERANCE_SECONDS, a timestamp too old or too far ahead is refused", async () => {
  const server = await start({ WEBHOOK_TOLERANCE_SECONDS: "300" });
  const now = Math.floor(Date.now() / 1000);
  const attempt = (t: number) => {
    const body = JSON.stringify(referralEvent({ chat: "ch_tol", ref: "r" }));
    return server.postRaw(body, signedBy(SECRET, body, t));
  };
  expect((await attempt(now - 200)).status).toBe(200);
  expect((await attempt(now - 400)).status).toBe(401);
  expect((await attempt(now + 400)).body.error).toMatch(/more than 300 s from now/);
});

test("without WEBHOOK_TOLERANCE_SECONDS, an hours-old retry is still accepted", async () => {
  const server = await start({});
  const body = JSON.stringify(referralEvent({ chat: "ch_old", ref: "r" }));
  expect((await server.postRaw(body, signedBy(SECRET, body, Math.floor(Date.now() / 1000) - 3 * 3600))).status).toBe(200);
});

test("with no secret configured (development), unsigned deliveries are accepted", async () => {
  const server = await start({ POSTPROXY_WEBHOOK_SECRET: "" });
  const event = referralEvent({ chat: "ch_dev", ref: "r" });
  expect((await server.postRaw(JSON.stringify(event), {})).body).toEqual({ id: event.id, status: "PROCESSED", duplicate: false });
});

test("with STORE_MESSAGE_BODIES=true, the message text is kept", async () => {
  const server = await start({ STORE_MESSAGE_BODIES: "true" });
  const event = messageEvent({ chatId: "ch_body", messageId: "msg_body", body: "I saw your ad" });
  await server.deliver(event);
  const [message] = await server.store.reader.query("SELECT body FROM message WHERE id = 'msg_body'");
  expect(message.body).toBe("I saw your ad");
  const [stored] = await server.store.reader.query(`SELECT raw_body FROM webhook_event WHERE id = '${event.id}'`);
  expect(stored.raw_body).toContain("I saw your ad");
});
