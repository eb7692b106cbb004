import { createConnection, createServer, Server, Socket } from "node:net";
import { once } from "node:events";
import { FaultProxy } from "../../src/dev/fault-proxy";

/** An echo server behind the proxy. */
async function echoServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as { port: number }).port };
}

async function connect(port: number): Promise<Socket> {
  const socket = createConnection({ host: "127.0.0.1", port });
  await once(socket, "connect");
  return socket;
}

describe("FaultProxy", () => {
  let echo: { server: Server; port: number };
  let proxy: FaultProxy;
  let address: { port: number };
  beforeEach(async () => {
    echo = await echoServer();
    proxy = new FaultProxy({ host: "127.0.0.1", port: echo.port });
    address = await proxy.listen();
  });
  afterEach(async () => {
    await proxy.close();
    await new Promise((resolve) => echo.server.close(resolve));
  });

  it("passes bytes both ways, holds them while silent and delivers them once passing again", async () => {
    const socket = await connect(address.port);
    socket.write("one");
    expect(String((await once(socket, "data"))[0])).toBe("one");
    proxy.setMode("silent");
    let heard = "";
    socket.on("data", (chunk) => (heard += chunk));
    socket.write("two");
    // Nothing comes back while silent: a round trip through a second, passing proxy proves time went by.
    const witness = new FaultProxy({ host: "127.0.0.1", port: echo.port });
    const other = await connect((await witness.listen()).port);
    other.write("x");
    await once(other, "data");
    expect(heard).toBe("");
    proxy.setMode("pass");
    while (heard !== "two") await once(socket, "data");
    other.destroy();
    await witness.close();
    socket.destroy();
  });

  it("resets open connections and refuses new ones", async () => {
    const socket = await connect(address.port);
    const failed = once(socket, "error");
    proxy.resetAll();
    expect(((await failed)[0] as NodeJS.ErrnoException).code).toBe("ECONNRESET");
    proxy.setMode("refuse");
    const refused = createConnection({ host: "127.0.0.1", port: address.port });
    const [error] = await once(refused, "error");
    expect((error as NodeJS.ErrnoException).code).toBe("ECONNRESET");
  });
});
