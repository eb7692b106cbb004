import { refProblem } from "../referrals/ref-rules";
import { keyProblem, MAX_JSON_DEPTH, nestsDeeperThan, storableText } from "./untrusted-text";
import { WebhookEventStatus } from "./webhook-event.entity";

type Json = Record<string, unknown>;

export interface Envelope {
  id: string;
  type: string;
  createdAt: Date | undefined;
  /** data.object ?? data.message ?? data: newer payloads nest the resource, older ones do not. */
  resource: Json;
  /** The parsed body. */
  body: Json;
}

export interface IncomingReferral {
  eventId: string;
  chatId: string;
  ref: string;
  source: string | null;
  type: string | null;
  receivedAt: Date;
  adId: string | null;
  adsContext: string | null;
}

export interface ChatFacts {
  id: string;
  profileId?: string;
  platform?: string;
  participantExternalId?: string;
  participantUsername?: string;
  participantName?: string;
  /** Postproxy's created_at, when the payload carries the chat object. */
  createdAt?: Date;
  /** When the event happened: bounds createdAt when Postproxy's is not known. */
  seenAt: Date;
  referral?: IncomingReferral;
  inboundAt?: Date;
}

export type OutboundStatus = "sent" | "delivered" | "read" | "failed_waiting_for_retry" | "failed";

export interface MessageFacts {
  id: string;
  chatId: string;
  direction: "inbound" | "outbound";
  status: OutboundStatus | "received";
  body: string | null;
  postedAt: Date | null;
  tappedAction: string | null;
  externalId: string | null;
  errorMessage: string | null;
  /** When the status of an outbound message changed to `status`. */
  statusAt: Date | null;
}

export interface Interpretation {
  status: WebhookEventStatus;
  error: string | null;
  chat?: ChatFacts;
  message?: MessageFacts;
}

const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);
const text = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : undefined);
/** Text for a column that is not a key: kept, made storable (see storableText). */
const freeText = (value: unknown): string | undefined => {
  const found = text(value);
  return found === undefined ? undefined : storableText(found);
};
const time = (value: unknown): Date | undefined => {
  if (typeof value !== "string") return undefined;
  const millis = Date.parse(value);
  return Number.isNaN(millis) ? undefined : new Date(millis);
};

export type EnvelopeParse = { ok: true; envelope: Envelope } | { ok: false; reason: string };

/** The envelope of a delivery: 400 MALFORMED_EVENT with `reason` when it is not an event refgraph can ever store. */
export function parseEnvelope(rawBody: Buffer | string): EnvelopeParse {
  const json = rawBody.toString();
  // Checked before parsing: JSON.parse, and every copy or walk of the parsed body after it, recurse per level.
  if (nestsDeeperThan(json, MAX_JSON_DEPTH)) return { ok: false, reason: `Body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels` };
  let body: unknown;
  try {
    body = JSON.parse(json);
  } catch {
    return { ok: false, reason: "Body is not valid JSON" };
  }
  if (!isObject(body)) return { ok: false, reason: "Body is not a JSON object" };
  if (typeof body.id !== "string" || body.id === "") return { ok: false, reason: "Event has no string id" };
  if (typeof body.type !== "string" || body.type === "") return { ok: false, reason: "Event has no string type" };
  for (const field of ["id", "type"] as const) {
    const problem = keyProblem(body[field] as string);
    if (problem) return { ok: false, reason: `Event ${field} ${problem}` };
  }
  return { ok: true, envelope: { id: body.id, type: body.type, createdAt: time(body.created_at), resource: resourceOf(body), body } };
}

function resourceOf(body: Json): Json {
  const data = isObject(body.data) ? body.data : {};
  return [data.object, data.message, data].find(isObject) as Json;
}

const OUTBOUND_STATUS: Record<string, OutboundStatus> = {
  "message.sent": "sent",
  "message.delivered": "delivered",
  "message.read": "read",
  "message.failed_waiting_for_retry": "failed_waiting_for_retry",
  "message.failed": "failed",
};

const rejected = (error: string): Interpretation => ({ status: WebhookEventStatus.REJECTED, error });

/** What an event means for refgraph's store: pure, so the same event always has the same effect. */
export function interpretEvent(envelope: Envelope, receivedAt: Date, storeMessageBodies: boolean): Interpretation {
  const interpretation = interpretByType(envelope, receivedAt, storeMessageBodies);
  const problem = keysProblem(interpretation);
  return problem ? rejected(problem) : interpretation;
}

function interpretByType(envelope: Envelope, receivedAt: Date, storeMessageBodies: boolean): Interpretation {
  const { type } = envelope;
  if (type === "referral.received") return interpretReferral(envelope, receivedAt);
  if (type === "message.received" || Object.hasOwn(OUTBOUND_STATUS, type)) return interpretMessage(envelope, receivedAt, storeMessageBodies);
  return { status: WebhookEventStatus.IGNORED, error: `refgraph does not handle ${type} events` };
}

/** Why an id the event would store in a key column cannot be stored, naming the field; undefined when all can. */
function keysProblem({ chat, message }: Interpretation): string | undefined {
  const keys: Array<[string, string | null | undefined]> = [
    ["chat id", chat?.id],
    ["chat profile_id", chat?.profileId],
    ["chat platform", chat?.platform],
    ["chat participant_external_id", chat?.participantExternalId],
    ["referral ad_id", chat?.referral?.adId],
    ["message id", message?.id],
    ["message external_id", message?.externalId],
  ];
  for (const [field, value] of keys) {
    const problem = value ? keyProblem(value) : null;
    if (problem) return `${field} ${problem}`;
  }
  return undefined;
}

function chatFacts(resource: Json, seenAt: Date): ChatFacts | undefined {
  const chat = resource.chat;
  if (isObject(chat)) {
    const id = text(chat.id) ?? text(resource.chat_id);
    if (!id) return undefined;
    return {
      id,
      profileId: text(chat.profile_id),
      platform: text(chat.platform),
      participantExternalId: text(chat.participant_external_id),
      participantUsername: freeText(chat.participant_username),
      participantName: freeText(chat.participant_name),
      createdAt: time(chat.created_at),
      seenAt,
    };
  }
  const id = text(chat) ?? text(resource.chat_id);
  return id ? { id, seenAt } : undefined;
}

function incomingReferral(source: Json, eventId: string, chatId: string, fallbackTime: Date): IncomingReferral | string {
  const problem = refProblem(source.ref);
  if (problem) return problem;
  return {
    eventId,
    chatId,
    ref: source.ref as string,
    source: freeText(source.source) ?? null,
    type: freeText(source.type) ?? null,
    receivedAt: time(source.received_at) ?? fallbackTime,
    adId: text(source.ad_id) ?? null,
    adsContext: isObject(source.ads_context_data) ? JSON.stringify(source.ads_context_data) : null,
  };
}

function interpretReferral(envelope: Envelope, receivedAt: Date): Interpretation {
  const eventTime = envelope.createdAt ?? receivedAt;
  const chat = chatFacts(envelope.resource, eventTime);
  if (!chat) return rejected("referral has no chat id (chat or chat_id)");
  const referral = incomingReferral(envelope.resource, envelope.id, chat.id, eventTime);
  if (typeof referral === "string") return rejected(referral);
  return { status: WebhookEventStatus.PROCESSED, error: null, chat: { ...chat, referral } };
}

function interpretMessage(envelope: Envelope, receivedAt: Date, storeMessageBodies: boolean): Interpretation {
  const { resource, type } = envelope;
  const eventTime = envelope.createdAt ?? receivedAt;
  const id = text(resource.id);
  if (!id) return rejected("message has no id");
  const chat = chatFacts(resource, eventTime);
  if (!chat) return rejected("message has no chat id (chat_id or chat)");
  const inbound = type === "message.received";
  const postedAt = time(resource.external_posted_at) ?? time(resource.created_at) ?? (inbound ? eventTime : null);
  const message: MessageFacts = {
    id,
    chatId: chat.id,
    direction: inbound ? "inbound" : "outbound",
    status: inbound ? "received" : OUTBOUND_STATUS[type],
    body: inbound && storeMessageBodies ? (freeText(resource.body) ?? null) : null,
    postedAt,
    tappedAction: isObject(resource.tapped_action) ? JSON.stringify(resource.tapped_action) : null,
    externalId: text(resource.external_id) ?? null,
    errorMessage: freeText(resource.error_message) ?? null,
    statusAt: inbound ? null : (statusTime(resource, type) ?? eventTime),
  };
  if (!inbound) return { status: WebhookEventStatus.PROCESSED, error: null, chat, message };
  const embedded = [resource.referral, isObject(resource.platform_data) ? resource.platform_data.referral : undefined].find(isObject);
  const referral = embedded && incomingReferral(embedded, envelope.id, chat.id, postedAt ?? eventTime);
  const facts: ChatFacts = { ...chat, inboundAt: postedAt ?? eventTime };
  if (typeof referral === "string")
    return { status: WebhookEventStatus.PROCESSED, error: `message recorded; its referral was not: ${referral}`, chat: facts, message };
  return { status: WebhookEventStatus.PROCESSED, error: null, chat: { ...facts, referral }, message };
}

function statusTime(resource: Json, type: string): Date | undefined {
  if (type === "message.delivered") return time(resource.external_delivered_at);
  if (type === "message.read") return time(resource.external_read_at);
  if (type === "message.sent") return time(resource.external_posted_at);
  return undefined;
}

/** The body to keep in the inbox: message text is removed unless STORE_MESSAGE_BODIES=true. */
export function storableBody(envelope: Envelope, rawBody: string, storeMessageBodies: boolean): string {
  if (storeMessageBodies || !envelope.type.startsWith("message.") || !("body" in envelope.resource)) return rawBody;
  const copy = structuredClone(envelope.body);
  resourceOf(copy).body = null;
  return JSON.stringify(copy);
}
