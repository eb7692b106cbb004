import { ValueTransformer } from "typeorm";

/**
 * Times are stored as epoch milliseconds (bigint) on both SQLite and PostgreSQL: one column type that sorts,
 * compares and adds 24 h the same way on both, with no timezone conversion by either driver.
 */
export const epochMillis: ValueTransformer = {
  to: (value?: Date | null) => (value == null ? value : value.getTime()),
  from: (value?: string | number | null) => (value == null ? null : new Date(Number(value))),
};

export const timeColumn = { type: "bigint", transformer: epochMillis } as const;
