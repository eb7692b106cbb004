import { DataSource } from "typeorm";
import { Keyset, Page, PageArgs, paginate } from "../graphql/connection";
import { MESSAGING_WINDOW_MS } from "./messaging-window";
import { Chat } from "./chat.entity";
import type { ChatFilter } from "./chat-filter";

const byActivity: Keyset = [
  { sql: "chat.last_activity_at", of: (chat: Chat) => chat.lastActivityAt.getTime(), type: "number" },
  { sql: "chat.id", of: (chat: Chat) => chat.id, type: "string" },
];

export class ChatService {
  constructor(private readonly db: DataSource) {}

  get(id: string): Promise<Chat | null> {
    return this.db.getRepository(Chat).findOneBy({ id });
  }

  async byIds(ids: readonly string[]): Promise<(Chat | null)[]> {
    const chats = await this.db.getRepository(Chat).createQueryBuilder("chat").where("chat.id IN (:...ids)", { ids }).getMany();
    const byId = new Map(chats.map((chat) => [chat.id, chat]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** Newest activity (latest referral or inbound message) first. */
  list(filter: ChatFilter, page: PageArgs, now: Date): Promise<Page<Chat>> {
    const query = this.db.getRepository(Chat).createQueryBuilder("chat");
    if (filter.platform !== undefined) query.andWhere("chat.platform = :platform", { platform: filter.platform });
    if (filter.hasReferral !== undefined) query.andWhere(`chat.referral_received_at IS ${filter.hasReferral ? "NOT " : ""}NULL`);
    if (filter.windowOpen !== undefined) {
      const open = "(COALESCE(chat.referral_received_at, 0) > :windowStart OR COALESCE(chat.last_inbound_at, 0) > :windowStart)";
      query.andWhere(filter.windowOpen ? open : `NOT ${open}`, { windowStart: now.getTime() - MESSAGING_WINDOW_MS });
    }
    if (filter.ref !== undefined || filter.referredFrom || filter.referredTo) {
      const conditions = ["r.chat_id = chat.id"];
      if (filter.ref !== undefined) conditions.push("r.ref = :ref");
      if (filter.referredFrom) conditions.push("r.received_at >= :referredFrom");
      if (filter.referredTo) conditions.push("r.received_at < :referredTo");
      query.andWhere(`EXISTS (SELECT 1 FROM referral r WHERE ${conditions.join(" AND ")})`, {
        ref: filter.ref,
        referredFrom: filter.referredFrom?.getTime(),
        referredTo: filter.referredTo?.getTime(),
      });
    }
    return paginate(query, byActivity, page);
  }
}
