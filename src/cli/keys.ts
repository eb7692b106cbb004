import { DataSource } from "typeorm";
import { Scope } from "../auth/api-key.entity";
import { ApiKeyService, SCOPES } from "../auth/api-key.service";

export class UsageError extends Error {}

/** `refgraph keys create|list|revoke`: the key itself is printed once, by create, and never stored. */
export async function keysCommand(db: DataSource, args: string[], options: { name?: string; scope?: string }, out: (line: string) => void) {
  const keys = new ApiKeyService(db, db, undefined);
  const now = new Date();
  const [action, target] = args;
  if (action === "create") {
    const { name, scope } = options;
    if (!name) throw new UsageError("keys create needs --name <name>");
    if (!SCOPES.includes(scope as Scope)) throw new UsageError(`keys create needs --scope ${SCOPES.join("|")} (got ${scope ?? "nothing"})`);
    if (await keys.exists(name)) throw new UsageError(`a key named '${name}' already exists (names stay taken after revoking)`);
    out(await keys.create(name, scope as Scope, now));
  } else if (action === "list") {
    for (const key of await keys.list())
      out([key.name, key.scope, key.createdAt.toISOString(), key.revokedAt ? `revoked ${key.revokedAt.toISOString()}` : "active"].join("\t"));
  } else if (action === "revoke") {
    if (!target) throw new UsageError("keys revoke needs the key's name");
    if (!(await keys.revoke(target, now))) throw new UsageError(`no active key named '${target}'`);
    out(`revoked ${target}`);
  } else {
    throw new UsageError("usage: refgraph keys create --name <name> --scope read|write | keys list | keys revoke <name>");
  }
}
