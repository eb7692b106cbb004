import { DataSource, EntityManager } from "typeorm";
import { writeTransaction } from "../db/busy";
import { isPostgres } from "../db/data-source";
import { classifyDatabaseError } from "../db/faults";
import { latestWrite, WriteOutcome } from "../db/write-health";

export type Readiness = { ready: true } | { ready: false; reason: string };

/** A write that settled this recently (ms) speaks for the database now. */
export const FRESH_WRITE_MS = 1000;
/** /readyz gives up on its probe after this (ms), leaving room within the 2 s it promises for the answer to travel. */
export const READY_ANSWER_MS = 1500;

/** What the latest write says of the database now: ready, why not, or nothing ("probe") when none is recent. */
export function readinessFrom(latest: WriteOutcome | undefined, nowMs: number): Readiness | "probe" {
  if (!latest || nowMs - latest.atMs > FRESH_WRITE_MS) return "probe";
  return latest.fault === null ? { ready: true } : notReady(latest.fault);
}

const notReady = (fault: string): Readiness => ({ ready: false, reason: `Writes fail: ${fault}.` });

/**
 * Ready means a write can commit now: the latest write transaction says so when it is recent, and a probe write
 * otherwise. One probe at a time: callers while one runs wait for it.
 */
export class ReadinessCheck {
  private probing: Promise<Readiness> | null = null;

  constructor(
    private readonly writer: DataSource,
    private readonly onProbeError: (error: unknown) => void = () => undefined,
  ) {}

  async check(): Promise<Readiness> {
    const decided = readinessFrom(latestWrite(this.writer), performance.now());
    if (decided !== "probe") return decided;
    this.probing ??= this.probe().finally(() => (this.probing = null));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<Readiness>((resolve) => {
      timer = setTimeout(() => resolve({ ready: false, reason: `The database did not answer within ${READY_ANSWER_MS / 1000} s.` }), READY_ANSWER_MS);
    });
    try {
      return await Promise.race([this.probing, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves once no probe is running. */
  async settled(): Promise<void> {
    await this.probing;
  }

  private async probe(): Promise<Readiness> {
    try {
      await writeTransaction(this.writer, (manager) => probeWrite(manager));
      return { ready: true };
    } catch (error) {
      this.onProbeError(error);
      return notReady(classifyDatabaseError(error).label);
    }
  }
}

const UPSERT = (marker: string) => `INSERT INTO readiness_probe (id, checked_at) VALUES (1, ${marker}) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at`;

/**
 * Rewrites the probe's row. On SQLite, rewriting one small row fits in the pages the file has, even when it cannot
 * grow (a full disk, max_page_count) and every new event fails: so the probe first takes one page more than the
 * file has free (at most 1 MiB at 4 KiB pages), inside a savepoint it rolls back, so the file never grows by it.
 */
async function probeWrite(manager: EntityManager): Promise<void> {
  if (isPostgres(manager.connection)) {
    await manager.query(UPSERT("$1"), [Date.now()]);
    return;
  }
  await manager.query("SAVEPOINT ballast");
  await manager.query(
    "INSERT INTO readiness_probe (id, checked_at, ballast) SELECT 2, 0, zeroblob(page_size * MIN(freelist_count + 1, 256)) FROM pragma_page_size, pragma_freelist_count",
  );
  await manager.query("ROLLBACK TO ballast");
  await manager.query("RELEASE ballast");
  await manager.query(UPSERT("?"), [Date.now()]);
}
