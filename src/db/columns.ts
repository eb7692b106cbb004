import { ValueTransformer } from "typeorm";

/**
 * Times are stored as epoch milliseconds (bigint) on both SQLite and PostgreSQL: one column type that sorts,
 * compares and adds 24 h the same way on both, with no timezone conversion by either driver.
 */
export const epochMillis: ValueTransformer = {
  // Anything else (null, or a find operator such as IsNull()) passes through untouched.
  to: (value: unknown) => (value instanceof Date ? value.getTime() : value),
  from: (value?: string | number | null) => (value == null ? null : new Date(Number(value))),
};

export const timeColumn = { type: "bigint", transformer: epochMillis } as const;
