import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { timeColumn } from "../db/columns";

@Entity("message")
@Index("IDX_message_chat_direction_time", ["chatId", "direction", "postedAt"])
export class Message {
  @PrimaryColumn({ type: "text" })
  id: string;

  @Column({ name: "chat_id", type: "text" })
  chatId: string;

  @Column({ type: "text" })
  direction: string;

  @Column({ type: "text" })
  status: string;

  /** Only with STORE_MESSAGE_BODIES=true. */
  @Column({ type: "text", nullable: true })
  body: string | null;

  @Column({ name: "posted_at", ...timeColumn, nullable: true })
  postedAt: Date | null;

  /** A quick-reply or ice-breaker tap: { kind, payload, title } as JSON text. */
  @Column({ name: "tapped_action", type: "text", nullable: true })
  tappedAction: string | null;

  @Column({ name: "external_id", type: "text", nullable: true })
  externalId: string | null;

  @Column({ name: "error_message", type: "text", nullable: true })
  errorMessage: string | null;

  @Column({ name: "sent_at", ...timeColumn, nullable: true })
  sentAt: Date | null;

  @Column({ name: "delivered_at", ...timeColumn, nullable: true })
  deliveredAt: Date | null;

  @Column({ name: "read_at", ...timeColumn, nullable: true })
  readAt: Date | null;

  @Column({ name: "failed_at", ...timeColumn, nullable: true })
  failedAt: Date | null;
}
