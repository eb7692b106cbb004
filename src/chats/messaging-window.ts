// Meta's standard messaging window: a business may write freely for 24 h after the person's last action,
// and entering through a referral counts as an action.
export const MESSAGING_WINDOW_MS = 24 * 60 * 60 * 1000;

export type WindowOpener = "REFERRAL" | "INBOUND_MESSAGE";

export interface MessagingWindow {
  isOpen: boolean;
  /** When it closes (or closed); null when nothing ever opened it. */
  expiresAt: Date | null;
  /** Whichever of the last referral and the last inbound message is later; null when neither exists. */
  openedBy: WindowOpener | null;
}

export function messagingWindowAt(lastReferralAt: Date | null, lastInboundAt: Date | null, now: Date): MessagingWindow {
  if (!lastReferralAt && !lastInboundAt) return { isOpen: false, expiresAt: null, openedBy: null };
  const openedBy: WindowOpener =
    lastInboundAt && (!lastReferralAt || lastInboundAt.getTime() >= lastReferralAt.getTime()) ? "INBOUND_MESSAGE" : "REFERRAL";
  const openedAt = (openedBy === "INBOUND_MESSAGE" ? lastInboundAt : lastReferralAt) as Date;
  const expiresAt = new Date(openedAt.getTime() + MESSAGING_WINDOW_MS);
  return { isOpen: now.getTime() < expiresAt.getTime(), expiresAt, openedBy };
}

/** How long after the person's last message a human agent may still reply (Meta's HUMAN_AGENT tag). */
export const HUMAN_AGENT_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Whether the business may send now: inside the standard window, or with the HUMAN_AGENT tag up to 7 days after
 * the person's last message. When not, `expiresAt` is when the standard window closed (null if it never opened).
 */
export function maySend(lastReferralAt: Date | null, lastInboundAt: Date | null, humanAgent: boolean, now: Date): { ok: boolean; expiresAt: Date | null } {
  const window = messagingWindowAt(lastReferralAt, lastInboundAt, now);
  const humanAgentOpen = humanAgent && lastInboundAt !== null && now.getTime() < lastInboundAt.getTime() + HUMAN_AGENT_WINDOW_MS;
  return { ok: window.isOpen || humanAgentOpen, expiresAt: window.expiresAt };
}
