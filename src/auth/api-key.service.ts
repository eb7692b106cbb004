import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { DataSource, IsNull, Repository } from "typeorm";
import { parameterMarker } from "../db/bulk-insert";
import { retryWhenBusy, writeTransaction } from "../db/busy";
import { ApiKey, Scope } from "./api-key.entity";

/** Who is calling: the admin key has every right; issued keys have their scope. */
export type Caller = { name: string; scope: Scope | "admin" };

export const SCOPES: readonly Scope[] = ["read", "write"];
const KEY_PREFIX = "rg_";

export const hashKey = (key: string) => createHash("sha256").update(key).digest("hex");

/** The key in an `Authorization: Bearer <key>` header, or null. */
export const bearerKey = (authorization: string | undefined): string | null => /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1] ?? null;

/** Reads on the reader; writes are transactions on the writer (writeTransaction). */
export class ApiKeyService {
  private readonly adminKeyHash: Buffer | null;

  constructor(
    private readonly writer: DataSource,
    private readonly reader: DataSource,
    adminKey: string | undefined,
  ) {
    this.adminKeyHash = adminKey ? Buffer.from(hashKey(adminKey), "hex") : null;
  }

  /** The caller behind an `Authorization: Bearer <key>` header, or null for no or an unknown key. */
  async authenticate(authorization: string | undefined): Promise<Caller | null> {
    const key = bearerKey(authorization);
    if (!key) return null;
    const hash = hashKey(key);
    // Compared as fixed-length hashes in constant time, so neither the key's length nor its prefix leaks.
    if (this.adminKeyHash && timingSafeEqual(Buffer.from(hash, "hex"), this.adminKeyHash)) return { name: "admin", scope: "admin" };
    if (!key.startsWith(KEY_PREFIX)) return null;
    // Raw SQL: every request to /graphql and /exports, rate-limited floods included, runs this lookup, and building
    // the query through the repository cost several times the lookup itself.
    const [found] = await this.reader.query(`SELECT name, scope FROM api_key WHERE key_hash = ${parameterMarker(this.reader)(1)} AND revoked_at IS NULL`, [hash]);
    return found ? { name: found.name, scope: found.scope } : null;
  }

  /** Creates a key and returns it: the only time it exists outside its hash. */
  async create(name: string, scope: Scope, now: Date): Promise<string> {
    const key = KEY_PREFIX + randomBytes(32).toString("base64url");
    await this.write((keys) => keys.insert({ name, scope, keyHash: hashKey(key), createdAt: now, revokedAt: null }));
    return key;
  }

  list(): Promise<ApiKey[]> {
    return this.reader.getRepository(ApiKey).find({ order: { createdAt: "ASC", id: "ASC" } });
  }

  /** Revokes the named key; false when there is no active key of that name. */
  async revoke(name: string, now: Date): Promise<boolean> {
    const result = await this.write((keys) => keys.update({ name, revokedAt: IsNull() }, { revokedAt: now }));
    return (result.affected ?? 0) > 0;
  }

  async exists(name: string): Promise<boolean> {
    return this.reader.getRepository(ApiKey).existsBy({ name });
  }

  private write<T>(work: (keys: Repository<ApiKey>) => Promise<T>): Promise<T> {
    return retryWhenBusy(() => writeTransaction(this.writer, (manager) => work(manager.getRepository(ApiKey))));
  }
}
