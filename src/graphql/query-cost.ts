import {
  DocumentNode,
  FragmentDefinitionNode,
  getArgumentValues,
  getNamedType,
  getNullableType,
  GraphQLField,
  GraphQLNamedType,
  GraphQLSchema,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  OperationDefinitionNode,
  SelectionSetNode,
} from "graphql";
import { Interval, planBuckets } from "../analytics/buckets";
import { MAX_BUCKETS, MAX_GROUPS, MAX_ROWS, RANGE_MS } from "../analytics/campaign-stats.service";
import { MAX_REF_LENGTH } from "../referrals/ref-rules";
import { DEFAULT_PAGE, MAX_PAGE } from "./connection";

// Every measure here visits each fragment once, whatever the number of spreads: a document whose fragments each
// spread the next one twice is measured in time linear in its size, while its expansion would be exponential.

/** How deeply the document's operations nest fields (introspection fields count 0), and how many fields they select, fragments expanded. */
export function documentShape(document: DocumentNode): { depth: number; fields: number } {
  const fragments = fragmentsOf(document);
  const memo = new Map<string, { depth: number; fields: number }>();
  const shape = (selectionSet: SelectionSetNode | undefined): { depth: number; fields: number } => {
    let depth = 0;
    let fields = 0;
    for (const selection of selectionSet?.selections ?? []) {
      let inner;
      if (selection.kind === Kind.FIELD) {
        const under = shape(selection.selectionSet);
        inner = { depth: selection.name.value.startsWith("__") ? 0 : 1 + under.depth, fields: 1 + under.fields };
      } else if (selection.kind === Kind.INLINE_FRAGMENT) inner = shape(selection.selectionSet);
      else inner = memoised(memo, selection.name.value, { depth: 0, fields: 0 }, () => shape(fragments.get(selection.name.value)?.selectionSet));
      depth = Math.max(depth, inner.depth);
      fields += inner.fields;
    }
    return { depth, fields };
  };
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION).map((o) => shape(o.selectionSet));
  return { depth: Math.max(0, ...operations.map((o) => o.depth)), fields: operations.reduce((sum, o) => sum + o.fields, 0) };
}

/** A selection's cost: a fixed part, and a part paid once per row of the page the field above it takes (its `first`…). */
interface Cost {
  fixed: number;
  perRow: number;
}

const total = (cost: Cost) => cost.fixed + cost.perRow;

/**
 * What an operation may cost to answer: each selected field costs 1, and a list costs, besides, the rows it may
 * return times the cost of the selection under it (boundOf). Aliases add up; fragments on several types all count.
 * `variables` must be coerced already (getVariableValues).
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  now: Date,
): number {
  const fragments = fragmentsOf(document);
  const memo = new Map<string, Cost>();
  const buckets = new Map<string, number>();
  const cost = (selectionSet: SelectionSetNode | undefined, type: GraphQLNamedType | undefined | null): Cost => {
    const sum: Cost = { fixed: 0, perRow: 0 };
    const add = (part: Cost) => ((sum.fixed += part.fixed), (sum.perRow += part.perRow));
    for (const selection of selectionSet?.selections ?? []) {
      if (selection.kind === Kind.FIELD) {
        // Introspection answers are as large as the schema, whatever the selection: one each.
        const field = selection.name.value.startsWith("__") || !(isObjectType(type) || isInterfaceType(type)) ? undefined : type.getFields()[selection.name.value];
        if (!field || !selection.selectionSet) {
          sum.fixed += 1;
          continue;
        }
        let args: Record<string, unknown> = {};
        try {
          args = getArgumentValues(field, selection, variables);
        } catch {
          // An argument GraphQL cannot read: validation or the resolver refuses it; cost the field with defaults.
        }
        const under = cost(selection.selectionSet, getNamedType(field.type));
        const bound = boundOf(type!.name, field, args, now, buckets);
        if (bound === "page") add({ fixed: 1, perRow: total(under) });
        else if ("pageOf" in bound) sum.fixed += 1 + under.fixed + bound.pageOf * under.perRow;
        else sum.fixed += 1 + bound.rows * total(under);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        add(cost(selection.selectionSet, selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : type));
      } else {
        const fragment = fragments.get(selection.name.value);
        add(memoised(memo, selection.name.value, { fixed: 0, perRow: 0 }, () => cost(fragment?.selectionSet, fragment && schema.getType(fragment.typeCondition.name.value))));
      }
    }
    return sum;
  };
  const root = operation.operation === "mutation" ? schema.getMutationType() : operation.operation === "subscription" ? schema.getSubscriptionType() : schema.getQueryType();
  return total(cost(operation.selectionSet, root));
}

/** Greeting rules are made by write keys, not strangers, and have no cap: they are charged as this many. */
export const GREETING_RULES_CHARGED = 1000;
/** Each tag but the first takes a `--` separator, so a ref (at most 2,083 characters) has at most this many. */
export const MAX_REF_TAGS = Math.ceil(MAX_REF_LENGTH / 2);

/** What a list missing from boundOf is charged; a test walks the schema so that none is. */
export const UNKNOWN_LIST = Object.freeze({ rows: MAX_PAGE });

/**
 * How many rows a field may return. `{ rows }`: a list, with its bound. `{ pageOf }`: a field whose arguments size
 * the list under it, its "page": a connection's `first` sizes its edges; campaignStats' groups × buckets its rows;
 * campaign's period its daily series. `{ rows: 1 }`: one object. Every list in the schema is named here.
 */
export function boundOf(
  typeName: string,
  field: GraphQLField<unknown, unknown>,
  args: Record<string, unknown>,
  now: Date,
  buckets = new Map<string, number>(),
): { rows: number } | { pageOf: number } | "page" {
  if (getNamedType(field.type).name.endsWith("Connection")) return { pageOf: clamp(args.first, 0, MAX_PAGE, DEFAULT_PAGE) };
  if (typeName.endsWith("Connection") && field.name === "edges") return "page";
  switch (`${typeName}.${field.name}`) {
    case "Query.campaignStats": {
      const groups = Array.isArray(args.groupBy) && args.groupBy.length === 0 ? 1 : clamp(args.first, 1, MAX_GROUPS, 100);
      const count = args.interval ? bucketCount(args.interval as Interval, args, now, buckets) : 1;
      // The service refuses an answer of more rows.
      return { pageOf: Math.min(groups * count, MAX_ROWS) };
    }
    case "Query.campaign":
      return { pageOf: bucketCount("DAY", args, now, buckets) };
    case "CampaignStats.rows":
    case "Campaign.daily":
      return "page";
    case "ParsedRef.tags":
      return { rows: MAX_REF_TAGS };
    case "Query.greetingRules":
      return { rows: GREETING_RULES_CHARGED };
  }
  return isListType(getNullableType(field.type)) ? UNKNOWN_LIST : { rows: 1 };
}

/**
 * Buckets over the period campaignStats or campaign would answer (the service's planBuckets), each period planned
 * once per document; MAX_BUCKETS for the data's own span (range ALL) or more buckets than that.
 */
function bucketCount(interval: Interval, args: Record<string, unknown>, now: Date, memo: Map<string, number>): number {
  const period = periodOf(args, now);
  const timeZone = String(args.timezone ?? "UTC");
  // Longer than any zone name: the resolver refuses it.
  if (timeZone.length > 64) return 1;
  if (!period) return MAX_BUCKETS;
  return memoised(memo, `${interval} ${timeZone} ${period.from} ${period.to}`, 1, () => {
    try {
      return Math.max(1, planBuckets({ interval, timeZone, ...period, maxBuckets: MAX_BUCKETS })?.length ?? MAX_BUCKETS);
    } catch {
      return 1; // an unknown time zone, which the resolver refuses
    }
  });
}

function periodOf(args: Record<string, unknown>, now: Date): { from: number; to: number } | null {
  if (typeof args.range === "string")
    return args.range in RANGE_MS ? { from: now.getTime() - RANGE_MS[args.range as keyof typeof RANGE_MS], to: now.getTime() } : null;
  if (args.from instanceof Date && args.to instanceof Date) return { from: args.from.getTime(), to: args.to.getTime() };
  return null;
}

const clamp = (value: unknown, min: number, max: number, fallback: number) =>
  typeof value === "number" && Number.isFinite(value) ? Math.min(max, Math.max(min, Math.floor(value))) : fallback;

function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  return new Map(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]));
}

/** The memoised value of `key`; `whileComputing` is what a fragment cycle sees (validation refuses cycles later). */
function memoised<T>(memo: Map<string, T>, key: string, whileComputing: T, compute: () => T): T {
  const known = memo.get(key);
  if (known !== undefined) return known;
  memo.set(key, whileComputing);
  const value = compute();
  memo.set(key, value);
  return value;
}
