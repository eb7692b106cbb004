import { DataSource, ObjectLiteral, SelectQueryBuilder } from "typeorm";
import { afterCursor, Keyset, orderBy, Page, PageArgs, pageSize, paginate, sortNewestFirst, toPage } from "../graphql/connection";
import { Referral } from "./referral.entity";
import type { ReferralFilter } from "./referral-filter";
import { ReferralPoint, referralKey } from "./referral-order";

/** Narrows a query over the `referral` alias to the filter; from inclusive, to exclusive. */
export function whereReferralsMatch<T extends ObjectLiteral>(query: SelectQueryBuilder<T>, filter: ReferralFilter): SelectQueryBuilder<T> {
  if (filter.ref !== undefined) query.andWhere("referral.ref = :ref", { ref: filter.ref });
  if (filter.refPrefix !== undefined)
    query.andWhere("substr(referral.ref, 1, :prefixLength) = :refPrefix", { refPrefix: filter.refPrefix, prefixLength: filter.refPrefix.length });
  if (filter.source !== undefined) query.andWhere("referral.source = :source", { source: filter.source });
  if (filter.chatId !== undefined) query.andWhere("referral.chat_id = :chatId", { chatId: filter.chatId });
  for (const part of ["campaign", "channel", "variant"] as const)
    if (filter[part] !== undefined) query.andWhere(`referral.${part} = :${part}`, { [part]: filter[part] });
  if (filter.platform !== undefined)
    query.andWhere("referral.chat_id IN (SELECT c.id FROM chat c WHERE c.platform = :platform)", { platform: filter.platform });
  if (filter.from) query.andWhere("referral.received_at >= :from", { from: filter.from.getTime() });
  if (filter.to) query.andWhere("referral.received_at < :to", { to: filter.to.getTime() });
  return query;
}

export interface ChatReferralsKey extends PageArgs {
  chatId: string;
}

// Ties in time are ordered by ref before id, so a chat's history reads the same whatever the arrival order.
const newestFirst: Keyset = [
  { sql: "referral.received_at", of: (r: Referral) => r.receivedAt.getTime(), type: "number" },
  { sql: "referral.ref", of: (r: Referral) => r.ref, type: "string" },
  { sql: "referral.id", of: (r: Referral) => r.id, type: "number" },
];

export class ReferralService {
  constructor(private readonly db: DataSource) {}

  private query() {
    return this.db.getRepository(Referral).createQueryBuilder("referral");
  }

  /** Newest receivedAt first; from inclusive, to exclusive. */
  list(filter: ReferralFilter, page: PageArgs): Promise<Page<Referral>> {
    return paginate(whereReferralsMatch(this.query(), filter), newestFirst, page);
  }

  async byIds(ids: readonly number[]): Promise<(Referral | null)[]> {
    const found = await this.query().where("referral.id IN (:...ids)", { ids }).getMany();
    const byId = new Map(found.map((referral) => [referral.id, referral]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** Referrals by their natural key (chat, ref, time): how a chat's stored first and latest referral are found. */
  async byPoints(points: readonly (ReferralPoint & { chatId: string })[]): Promise<(Referral | null)[]> {
    const query = this.query();
    points.forEach((p, i) =>
      query.orWhere(`(referral.chat_id = :chat${i} AND referral.ref = :ref${i} AND referral.received_at = :at${i})`, {
        [`chat${i}`]: p.chatId,
        [`ref${i}`]: p.ref,
        [`at${i}`]: p.receivedAt.getTime(),
      }),
    );
    const found = await query.getMany();
    const byKey = new Map(found.map((r) => [referralKey(r), r]));
    return points.map((p) => byKey.get(referralKey(p)) ?? null);
  }

  /**
   * One page of history for each of several chats in few queries (a window function numbers each chat's
   * referrals newest first), so a list of chats with their referrals costs the same few queries at any size.
   */
  async pagesForChats(keys: readonly ChatReferralsKey[]): Promise<Page<Referral>[]> {
    const groups = new Map<string, ChatReferralsKey[]>();
    for (const key of keys) {
      const args = `${key.first}\u0000${key.after}`;
      groups.set(args, [...(groups.get(args) ?? []), key]);
    }
    const pages = new Map<ChatReferralsKey, Page<Referral>>();
    for (const group of groups.values()) {
      const results = await this.pagesWithSameArgs(group);
      group.forEach((key, i) => pages.set(key, results[i]));
    }
    return keys.map((key) => pages.get(key) as Page<Referral>);
  }

  private async pagesWithSameArgs(keys: ChatReferralsKey[]): Promise<Page<Referral>[]> {
    const { first, after } = keys[0];
    const limit = pageSize(first);
    const chatIds = [...new Set(keys.map((k) => k.chatId))];
    const cursor = afterCursor(newestFirst, after);
    const ranked = this.query()
      .select("referral.id", "id")
      .addSelect(`ROW_NUMBER() OVER (PARTITION BY referral.chat_id ORDER BY ${orderBy(newestFirst)})`, "position")
      .where("referral.chat_id IN (:...chatIds)");
    if (cursor) ranked.andWhere(cursor.where);
    const query = this.query()
      .where(`referral.id IN (SELECT ranked.id FROM (${ranked.getQuery()}) ranked WHERE ranked.position <= :limit)`)
      .setParameters({ chatIds, ...cursor?.parameters, limit: limit + 1 });
    const rows = limit === 0 ? [] : await sortNewestFirst(query, newestFirst).getMany();
    const histories = new Map<string, Referral[]>();
    for (const row of rows) {
      const history = histories.get(row.chatId);
      if (history) history.push(row);
      else histories.set(row.chatId, [row]);
    }
    // Counted once for all these chats, and only if some chat's totalCount is asked for.
    let counts: Promise<Map<string, number>> | undefined;
    const countFor = async (chatId: string) => (await (counts ??= this.countsForChats(chatIds))).get(chatId) ?? 0;
    return keys.map((key) => {
      const history = histories.get(key.chatId) ?? [];
      return toPage(history.slice(0, limit), history.length > limit, newestFirst, () => countFor(key.chatId));
    });
  }

  private async countsForChats(chatIds: string[]): Promise<Map<string, number>> {
    const rows: { chatId: string; count: string | number }[] = await this.query()
      .select("referral.chat_id", "chatId")
      .addSelect("COUNT(*)", "count")
      .where("referral.chat_id IN (:...chatIds)", { chatIds })
      .groupBy("referral.chat_id")
      .getRawMany();
    return new Map(rows.map((r) => [r.chatId, Number(r.count)]));
  }
}
