import { randomUUID } from "node:crypto";

/** Webhook bodies shaped as Postproxy sends them (see shared/postproxy-api.md). */
export interface ChatPayload {
  id: string;
  profile_id?: string;
  platform?: string;
  participant_external_id?: string;
  participant_username?: string;
  participant_name?: string;
  created_at?: string;
}

export const iso = (date: Date | number) => new Date(date).toISOString();

export function referralEvent(options: {
  id?: string;
  chat: ChatPayload | string;
  ref: unknown;
  receivedAt?: Date | number | null;
  createdAt?: Date | number;
  source?: string;
  extra?: Record<string, unknown>;
  nesting?: "object" | "flat";
}) {
  const resource: Record<string, unknown> = {
    chat: options.chat,
    ref: options.ref,
    source: options.source ?? "SHORTLINKS",
    type: "OPEN_THREAD",
    ...(options.receivedAt === null ? {} : { received_at: iso(options.receivedAt ?? options.createdAt ?? Date.now()) }),
    ...options.extra,
  };
  return {
    id: options.id ?? `evt_${randomUUID()}`,
    object: "event",
    type: "referral.received",
    created_at: iso(options.createdAt ?? Date.now()),
    data: options.nesting === "flat" ? resource : { object: resource },
  };
}

export function messageEvent(options: {
  id?: string;
  type?: string;
  messageId?: string;
  chatId?: string | null;
  postedAt?: Date | number;
  body?: string;
  extra?: Record<string, unknown>;
}) {
  const type = options.type ?? "message.received";
  const inbound = type === "message.received";
  return {
    id: options.id ?? `evt_${randomUUID()}`,
    object: "event",
    type,
    created_at: iso(options.postedAt ?? Date.now()),
    data: {
      message: {
        id: options.messageId ?? `msg_${randomUUID()}`,
        ...(options.chatId === null ? {} : { chat_id: options.chatId ?? "ch_1" }),
        direction: inbound ? "inbound" : "outbound",
        status: inbound ? "received" : "published",
        body: options.body ?? "hello",
        external_posted_at: iso(options.postedAt ?? Date.now()),
        created_at: iso(options.postedAt ?? Date.now()),
        ...options.extra,
      },
    },
  };
}
