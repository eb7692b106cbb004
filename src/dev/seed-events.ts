import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

// The synthetic history `refgraph seed` feeds to ingestion. It is generated and serialised in a worker thread
// (seedEventChunks), so that the thread running ingestion spends its time on ingestion.

export interface SeedOptions {
  referrals: number;
  chats: number;
  /** Distinct refs to draw from. */
  refs: number;
  days: number;
  seed: number;
  /** The history ends here and starts `days` before. */
  end: Date;
}

/** One webhook delivery as Postproxy would have sent it. */
export interface SeedEvent {
  body: Record<string, unknown>;
  chatId: string;
  deliveryId: string;
  receivedAt: Date;
}

const DAY = 86_400_000;

/** mulberry32: a small, fast generator, so the same --seed gives the same history. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const logNormal = (random: () => number, median: number, sigma: number) =>
  median * Math.exp(sigma * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));

/** The index drawn with probability proportional to its weight (`cumulative` holds the running sums). */
function draw(cumulative: Float64Array, random: () => number): number {
  const target = random() * cumulative[cumulative.length - 1];
  let [low, high] = [0, cumulative.length - 1];
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (cumulative[mid] > target) high = mid;
    else low = mid + 1;
  }
  return low;
}

function runningSums(weights: number[]): Float64Array {
  const sums = new Float64Array(weights.length);
  weights.reduce((sum, weight, i) => (sums[i] = sum + weight), 0);
  return sums;
}

const CHANNELS = ["bio", "story", "qr", "ad", "influencer", "reel"];
const WORDS = ["summer", "winter", "spring", "autumn", "blackfriday", "launch", "newyear", "flashsale", "backtoschool", "valentines"];
const FIRST_NAMES = ["Jane", "Omar", "Lea", "Marco", "Aiko", "Sam", "Nina", "Tomas", "Priya", "Luca", "Zoe", "Ivan"];
const LAST_NAMES = ["Doe", "Haddad", "Martin", "Rossi", "Tanaka", "Lee", "Novak", "Silva", "Shah", "Weber", "Kim", "Ortiz"];
const TEXTS = ["Hi!", "Is this still available?", "How much is it?", "Do you ship abroad?", "Can I get the discount code?", "What sizes do you have?", "Thanks!"];

interface RefSpec {
  ref: string;
  campaign: string;
  channel: string | null;
}

/**
 * `count` distinct refs over about count/20 campaigns, in random popularity order: most in the default key=value
 * grammar (c=summer24--ch=bio--v=a, variant optional), some plain (summer24_promo, summer24_qr).
 */
function refCatalog(count: number, random: () => number): RefSpec[] {
  const candidates: RefSpec[] = [];
  for (let i = 0; i < Math.ceil(count / 20); i++) {
    const campaign = `${WORDS[i % WORDS.length]}${24 + (Math.floor(i / WORDS.length) % 3)}${i < 3 * WORDS.length ? "" : `-${Math.floor(i / (3 * WORDS.length)) + 1}`}`;
    candidates.push({ ref: `${campaign}_promo`, campaign, channel: null });
    for (const channel of CHANNELS) {
      candidates.push({ ref: `${campaign}_${channel}`, campaign, channel });
      for (const variant of ["", "a", "b", "c"]) candidates.push({ ref: `c=${campaign}--ch=${channel}${variant && `--v=${variant}`}`, campaign, channel });
    }
  }
  for (let i = candidates.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [candidates[i], candidates[j]] = [candidates[j], candidates[i]];
  }
  return candidates.slice(0, count);
}

/**
 * A synthetic history as Postproxy would deliver it, in time order: exactly `referrals` referral.received events
 * over exactly `chats` chats (most chats come once, a few come back many times), refs drawn Zipf-like, and
 * message.received events after about a third of the referrals (seconds to days later) and before some chats'
 * first referral. Pure: the same options give the same events.
 */
export function* seedEvents(options: SeedOptions): Generator<SeedEvent> {
  const random = prng(options.seed);
  const end = options.end.getTime();
  const start = end - options.days * DAY;
  const refs = refCatalog(options.refs, random);
  const refSums = runningSums(refs.map((_, rank) => 1 / (rank + 1)));

  // Every chat has one referral; the rest go to chats by a heavy-tailed (Pareto) weight.
  const referralsOf = new Uint32Array(options.chats).fill(1);
  const chatSums = runningSums(Array.from({ length: options.chats }, () => Math.min(100, (1 - random()) ** (-1 / 1.5))));
  for (let i = options.chats; i < options.referrals; i++) referralsOf[draw(chatSums, random)] += 1;

  // The plan: one entry per event (ref -1 for a message), sorted by time below.
  const times: number[] = [];
  const chatOf: number[] = [];
  const refOf: number[] = [];
  const createdAt = new Float64Array(options.chats);
  const plan = (time: number, chat: number, ref: number) => {
    times.push(Math.floor(time));
    chatOf.push(chat);
    refOf.push(ref);
  };
  for (let chat = 0; chat < options.chats; chat++) {
    const count = referralsOf[chat];
    // Kept below end - count, so making the chat's times distinct (a referral is chat, ref and time) stays before end.
    const last = end - count;
    const first = Math.floor(start + random() * (last - start));
    const referralTimes = [first];
    for (let t = first; referralTimes.length < count; ) {
      t += logNormal(random, 3 * DAY, 1.5);
      if (t >= last) t = first + random() * (last - first);
      referralTimes.push(Math.floor(t));
    }
    referralTimes.sort((a, b) => a - b);
    for (let i = 1; i < count; i++) referralTimes[i] = Math.max(referralTimes[i], referralTimes[i - 1] + 1);
    createdAt[chat] = first;
    if (random() < 0.05) {
      const before = first - logNormal(random, DAY, 1.5);
      if (before >= start) {
        plan(before, chat, -1);
        createdAt[chat] = Math.floor(before);
      }
    }
    for (const at of referralTimes) {
      plan(at, chat, draw(refSums, random));
      if (random() >= 0.35) continue;
      let reply = at + 1000 + logNormal(random, 180_000, 2.5);
      for (; reply < end; reply += 1000 + logNormal(random, 120_000, 2)) {
        plan(reply, chat, -1);
        if (random() >= 0.25) break;
      }
    }
  }

  const order = Uint32Array.from(times.keys()).sort((a, b) => times[a] - times[b] || a - b);
  const tag = `s${options.seed}`;
  for (let n = 0; n < order.length; n++) {
    const i = order[n];
    // Zero-padded, so ids sort in time order and every index on them grows at its end.
    const number = String(n).padStart(10, "0");
    const chat = chatOf[i];
    const at = times[i];
    const createdAtEvent = at + Math.floor(50 + random() * 450);
    const common = { id: `evt_${tag}_${number}`, object: "event" };
    const chatId = `ch_${tag}_${chat}`;
    const body =
      refOf[i] >= 0
        ? { ...common, type: "referral.received", created_at: iso(createdAtEvent), data: { object: referral(chatId, chat, createdAt[chat], refs[refOf[i]], refOf[i], at) } }
        : { ...common, type: "message.received", created_at: iso(at), data: { message: message(`msg_${tag}_${number}`, chatId, TEXTS[Math.floor(random() * TEXTS.length)], at) } };
    yield { body, chatId, deliveryId: `dlv_${tag}_${number}`, receivedAt: new Date(createdAtEvent + Math.floor(100 + random() * 900)) };
  }
}

const iso = (millis: number) => new Date(millis).toISOString();

function referral(chatId: string, chat: number, chatCreatedAt: number, spec: RefSpec, refIndex: number, at: number) {
  const platform = chat % 4 === 3 ? "facebook" : "instagram";
  const [firstName, lastName] = [FIRST_NAMES[chat % FIRST_NAMES.length], LAST_NAMES[Math.floor(chat / FIRST_NAMES.length) % LAST_NAMES.length]];
  const ad = spec.channel === "ad";
  return {
    chat: {
      id: chatId,
      profile_id: `prof_${platform}`,
      platform,
      participant_external_id: platform === "instagram" ? `17841${String(chat).padStart(12, "0")}` : String(2_400_000_000_000_000 + chat),
      participant_username: `${firstName}.${lastName}.${chat.toString(36)}`.toLowerCase(),
      participant_name: `${firstName} ${lastName}`,
      created_at: iso(chatCreatedAt),
    },
    ref: spec.ref,
    // Meta's values: Instagram links say SHORTLINKS, Messenger links SHORTLINK, ads ADS with the ad's id.
    source: ad ? "ADS" : platform === "instagram" ? "SHORTLINKS" : "SHORTLINK",
    type: "OPEN_THREAD",
    received_at: iso(at),
    ...(ad ? { ad_id: `2385${String(refIndex).padStart(13, "0")}`, ads_context_data: { ad_title: `${spec.campaign} (${spec.ref})`, post_id: String(1_780_000_000 + refIndex) } } : {}),
  };
}

/** A message.received event's message. */
export function message(id: string, chatId: string, body: string, at: number) {
  return { id, chat_id: chatId, direction: "inbound", status: "received", body, external_posted_at: iso(at), created_at: iso(at) };
}

/** Events as the worker hands them over: serialised bodies and the rest side by side. */
export interface EventChunk {
  bodies: string[];
  chatIds: string[];
  deliveryIds: string[];
  receivedAt: number[];
}

const CHUNK = 4096;

/** seedEvents(options), serialised in a worker thread a chunk at a time, two chunks ahead of the caller. */
export async function* seedEventChunks(options: SeedOptions): AsyncGenerator<EventChunk> {
  const worker = new Worker(__filename, { workerData: { seedEvents: options } });
  const ready: (EventChunk | null)[] = [];
  let failure: Error | undefined;
  let wake = () => {};
  worker.on("message", (chunk: EventChunk | null) => {
    ready.push(chunk);
    wake();
  });
  worker.on("error", (error) => {
    failure = error;
    wake();
  });
  try {
    for (;;) {
      while (ready.length === 0 && !failure) await new Promise<void>((resolve) => (wake = resolve));
      if (failure) throw failure;
      const chunk = ready.shift();
      if (!chunk) return;
      worker.postMessage("next");
      yield chunk;
    }
  } finally {
    await worker.terminate();
  }
}

function serveChunks(options: SeedOptions): void {
  const events = seedEvents(options);
  const send = () => {
    const chunk: EventChunk = { bodies: [], chatIds: [], deliveryIds: [], receivedAt: [] };
    while (chunk.bodies.length < CHUNK) {
      const next = events.next();
      if (next.done) break;
      const { body, chatId, deliveryId, receivedAt } = next.value;
      chunk.bodies.push(JSON.stringify(body));
      chunk.chatIds.push(chatId);
      chunk.deliveryIds.push(deliveryId);
      chunk.receivedAt.push(receivedAt.getTime());
    }
    parentPort?.postMessage(chunk.bodies.length > 0 ? chunk : null);
  };
  parentPort?.on("message", send);
  send();
  send();
}

if (!isMainThread && workerData?.seedEvents) serveChunks(workerData.seedEvents);
