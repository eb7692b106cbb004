import { AddressInfo, createConnection, createServer, Server, Socket } from "node:net";

/**
 * What the proxy does: `pass` forwards bytes both ways; `silent` stops forwarding and accepting anything (the
 * network dropping packets: nobody hears a reset, connections just go quiet); `refuse` resets every new connection.
 */
export type FaultMode = "pass" | "silent" | "refuse";

/**
 * A TCP proxy between refgraph and its database that injects network faults, for tests and `npm run bench:faults`.
 * Point DATABASE_URL at `host:port` instead of the database's own.
 */
export class FaultProxy {
  private mode: FaultMode = "pass";
  private readonly pairs = new Set<[Socket, Socket]>();
  private server: Server | null = null;

  constructor(
    private readonly target: { host: string; port: number },
  ) {}

  async listen(): Promise<{ host: string; port: number }> {
    const server = createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { host: "127.0.0.1", port: (server.address() as AddressInfo).port };
  }

  setMode(mode: FaultMode): void {
    this.mode = mode;
    for (const [client, upstream] of this.pairs) {
      if (mode === "silent") {
        client.pause();
        upstream.pause();
      } else {
        client.resume();
        upstream.resume();
      }
    }
  }

  /** Resets every open connection (both ends see ECONNRESET), as a middlebox or a restarted database would. */
  resetAll(): void {
    for (const [client, upstream] of this.pairs) {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    }
    this.pairs.clear();
  }

  async close(): Promise<void> {
    for (const [client, upstream] of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private accept(client: Socket): void {
    if (this.mode === "refuse") {
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection(this.target);
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    // While silent both sockets are paused: what was sent waits, and arrives once passing again, as TCP's
    // retransmissions deliver it when a network comes back.
    client.on("data", (chunk) => upstream.write(chunk));
    upstream.on("data", (chunk) => client.write(chunk));
    if (this.mode === "silent") {
      client.pause();
      upstream.pause();
    }
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  }
}
