import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";
import { timeColumn } from "../db/columns";

export type Scope = "read" | "write";

@Entity("api_key")
export class ApiKey {
  @PrimaryGeneratedColumn({ type: "integer" })
  id: number;

  @Column({ type: "text", unique: true })
  name: string;

  @Column({ type: "text" })
  scope: Scope;

  /** SHA-256 of the key, hex: keys are 256 random bits, so a fast hash is enough and the key itself is never stored. */
  @Column({ name: "key_hash", type: "text", unique: true })
  keyHash: string;

  @Column({ name: "created_at", ...timeColumn })
  createdAt: Date;

  @Column({ name: "revoked_at", ...timeColumn, nullable: true })
  revokedAt: Date | null;
}
