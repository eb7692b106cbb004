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

/** Relay cost estimate: each node's selections are paid `first` times. */
export const connectionComplexity = ({ args, childComplexity }: { args: Record<string, unknown>; childComplexity: number }) =>
  1 + (typeof args.first === "number" ? args.first : DEFAULT_PAGE) * childComplexity;

export interface Keyset {
  /** The sort key, as an SQL expression and as read from a row (a number or string). */
  sort: string;
  sortOf: (row: never) => number | string;
  /** The unique tie-breaker: the primary key. */
  id: string;
  idOf: (row: never) => number | string;
  /** typeof the sort key and the id, to refuse a forged cursor before it reaches SQL. */
  types: ["number" | "string", "number" | "string"];
}

export function pageSize(first: number | undefined | null): number {
  if (first == null) return DEFAULT_PAGE;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE) throw badUserInput("first", `must be between 0 and ${MAX_PAGE} (got ${first})`);
  return first;
}

export const encodeCursor = (sort: number | string, id: number | string) => Buffer.from(JSON.stringify([sort, id])).toString("base64url");

export function decodeCursor(after: string, types: Keyset["types"]): [number | string, number | string] {
  try {
    const value = JSON.parse(Buffer.from(after, "base64url").toString());
    if (Array.isArray(value) && value.length === 2 && value.every((v, i) => typeof v === types[i])) return value as [number, number];
  } catch {
    // fall through to the error below
  }
  throw badUserInput("after", "is not a cursor from this list");
}

/** Newest-first keyset pagination over a filtered query: stable under concurrent inserts, no OFFSET scans. */
export async function paginate<T extends ObjectLiteral>(query: SelectQueryBuilder<T>, keyset: Keyset, args: PageArgs): Promise<Page<T>> {
  const limit = pageSize(args.first);
  const counter = query.clone();
  if (args.after) {
    const [sort, id] = decodeCursor(args.after, keyset.types);
    query.andWhere(`(${keyset.sort} < :cursorSort OR (${keyset.sort} = :cursorSort AND ${keyset.id} < :cursorId))`, { cursorSort: sort, cursorId: id });
  }
  const rows = limit === 0 ? [] : await query.orderBy(keyset.sort, "DESC").addOrderBy(keyset.id, "DESC").limit(limit + 1).getMany();
  return toPage(rows.slice(0, limit), rows.length > limit, keyset, () => counter.getCount());
}

export function toPage<T>(rows: T[], hasNextPage: boolean, keyset: Keyset, totalCount: () => Promise<number>): Page<T> {
  const edges = rows.map((node) => ({ cursor: encodeCursor(keyset.sortOf(node as never), keyset.idOf(node as never)), node }));
  return { edges, pageInfo: { hasNextPage, endCursor: edges.at(-1)?.cursor ?? null }, totalCount };
}
