import { ArgsType, ClassType, Field, Int, ObjectType } from "type-graphql";
import { SelectQueryBuilder, ObjectLiteral } from "typeorm";
import { badUserInput } from "../errors";

export const DEFAULT_PAGE = 20;
export const MAX_PAGE = 100;

@ArgsType()
export class PageArgs {
  @Field(() => Int, { nullable: true, description: `How many to return: default ${DEFAULT_PAGE}, at most ${MAX_PAGE}.` })
  first?: number;

  @Field(() => String, { nullable: true, description: "endCursor of the previous page." })
  after?: string;
}

@ObjectType()
export class PageInfo {
  @Field()
  hasNextPage: boolean;

  @Field(() => String, { nullable: true })
  endCursor: string | null;
}

export interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: PageInfo;
  totalCount: () => Promise<number>;
}

/** A Relay connection type for `node`; totalCount is counted only when asked for. */
export function Connection<T extends object>(node: ClassType<T>, name: string) {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field()
    cursor: string;

    @Field(() => node)
    node: T;
  }

  @ObjectType(`${name}Connection`)
  class ConnectionType implements Page<T> {
    @Field(() => [Edge])
    edges: Edge[];

    @Field(() => PageInfo)
    pageInfo: PageInfo;

    totalCount: () => Promise<number>;

    @Field(() => Int, { name: "totalCount", description: "How many match the filter, across all pages." })
    count(): Promise<number> {
      return this.totalCount();
    }
  }
  return ConnectionType;
}

/** One column of a newest-first sort order. */
export interface KeyColumn {
  sql: string;
  of: (row: never) => number | string;
  /** typeof the value, to refuse a forged cursor before it reaches SQL. */
  type: "number" | "string";
}

/** Columns sorted descending, the last one unique (the primary key). */
export type Keyset = KeyColumn[];

export function pageSize(first: number | undefined | null): number {
  if (first == null) return DEFAULT_PAGE;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE) throw badUserInput("first", `must be between 0 and ${MAX_PAGE} (got ${first})`);
  return first;
}

// Holds any referral cursor (refs are at most 2,083 of Meta's characters) and ids of up to ~2,900 characters.
export const MAX_CURSOR_LENGTH = 4096;

const encodeCursor = (values: (number | string)[]) => Buffer.from(JSON.stringify(values)).toString("base64url");

function decodeCursor(after: string, keyset: Keyset): (number | string)[] {
  if (after.length > MAX_CURSOR_LENGTH) throw badUserInput("after", `is not a cursor from this list (longer than ${MAX_CURSOR_LENGTH} characters)`);
  try {
    const value = JSON.parse(Buffer.from(after, "base64url").toString());
    if (Array.isArray(value) && value.length === keyset.length && value.every((v, i) => typeof v === keyset[i].type)) return value;
  } catch {
    // fall through to the error below
  }
  throw badUserInput("after", "is not a cursor from this list");
}

/** Restricts a query to the rows after `after` in the keyset's order; returns the SQL and its parameters. */
export function afterCursor(keyset: Keyset, after: string | undefined): { where: string; parameters: Record<string, unknown> } | null {
  if (!after) return null;
  const values = decodeCursor(after, keyset);
  const parameters = Object.fromEntries(values.map((value, i) => [`cursor${i}`, value]));
  // (a, b, c) < (x, y, z), spelled out: row-value comparison is not portable across SQLite and PostgreSQL.
  const where = keyset.reduceRight<string>(
    (rest, column, i) => `(${column.sql} < :cursor${i}` + (rest ? ` OR (${column.sql} = :cursor${i} AND ${rest}))` : ")"),
    "",
  );
  return { where, parameters };
}

export const orderBy = (keyset: Keyset) => keyset.map((column) => `${column.sql} DESC`).join(", ");

export function sortNewestFirst<T extends ObjectLiteral>(query: SelectQueryBuilder<T>, keyset: Keyset): SelectQueryBuilder<T> {
  keyset.forEach((column, i) => (i === 0 ? query.orderBy(column.sql, "DESC") : query.addOrderBy(column.sql, "DESC")));
  return query;
}

/** Newest-first keyset pagination over a filtered query: stable under concurrent inserts, no OFFSET scans. */
export async function paginate<T extends ObjectLiteral>(query: SelectQueryBuilder<T>, keyset: Keyset, args: PageArgs): Promise<Page<T>> {
  const limit = pageSize(args.first);
  const counter = query.clone();
  const cursor = afterCursor(keyset, args.after);
  if (cursor) query.andWhere(cursor.where, cursor.parameters);
  const rows = limit === 0 ? [] : await sortNewestFirst(query, keyset).limit(limit + 1).getMany();
  return toPage(rows.slice(0, limit), rows.length > limit, keyset, () => counter.getCount());
}

export function toPage<T>(rows: T[], hasNextPage: boolean, keyset: Keyset, totalCount: () => Promise<number>): Page<T> {
  const edges = rows.map((node) => ({ cursor: encodeCursor(keyset.map((column) => column.of(node as never))), node }));
  return { edges, pageInfo: { hasNextPage, endCursor: edges.at(-1)?.cursor ?? null }, totalCount };
}
