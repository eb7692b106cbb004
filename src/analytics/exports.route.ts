import { pipeline, Readable } from "node:stream";
import { stringify } from "csv-stringify";
import { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import {
  FormattedExecutionResult,
  getNullableType,
  GraphQLArgument,
  GraphQLBoolean,
  GraphQLInputType,
  GraphQLInt,
  GraphQLObjectType,
  GraphQLSchema,
  isInputObjectType,
  isListType,
} from "graphql";
import { GraphQLDateTimeISO } from "graphql-scalars";
import { Caller } from "../auth/api-key.service";
import { ERROR_CODES, ErrorCode, RefgraphError, unauthenticated } from "../errors";
import { sendError } from "../webhooks/webhook.route";
import { ExportRow, ExportService, REFERRAL_COLUMNS } from "./exports.service";

export interface ExportRoutesOptions {
  exports: ExportService;
  /** The caller behind a request's Authorization header, as GraphQL decides it; null to refuse. */
  authenticate: (request: FastifyRequest) => Promise<Caller | null>;
  schema: GraphQLSchema;
  /** Runs a GraphQL operation for the caller through the same pipeline as POST /graphql. */
  execute: (query: string, variables: Record<string, unknown>, caller: Caller, address: string) => Promise<FormattedExecutionResult>;
}

declare module "fastify" {
  interface FastifyRequest {
    caller: Caller | null;
  }
}

/** GET /exports/*.csv: files for BI tools, under the same API keys as GraphQL; any scope may read them. */
export async function exportRoutes(app: FastifyInstance, { exports, authenticate, schema, execute }: ExportRoutesOptions) {
  app.decorateRequest("caller", null);
  app.addHook("onRequest", async (request) => {
    request.caller = await authenticate(request);
    if (!request.caller) throw unauthenticated();
  });
  // refgraph's own errors answer with their status and code; anything else goes on to the app's handler.
  app.setErrorHandler((error, _request, reply) => {
    if (!(error instanceof RefgraphError)) throw error;
    return sendError(reply, error.code, error.message);
  });

  app.get("/exports/referrals.csv", async (request, reply) => {
    const { from, to, ref, campaign, escapeFormulas } = queryParameters(request.query, ["from", "to", "ref", "campaign", ESCAPE_FORMULAS]);
    const rows = exports.referrals({ ...period(from, to), ref, campaign });
    return sendCsv(reply, "referrals.csv", REFERRAL_COLUMNS, rows, formulasEscaped(escapeFormulas));
  });

  const stats = campaignStatsQuery(schema);
  app.get("/exports/campaign-stats.csv", async (request, reply) => {
    const { [ESCAPE_FORMULAS]: escapeFormulas, ...parameters } = request.query as Record<string, string | string[]>;
    const escaped = formulasEscaped(escapeFormulas);
    const result = await execute(stats.query, variablesOf(parameters, stats.args), request.caller!, request.ip);
    const error = result.errors?.[0];
    if (error) {
      // RATE_LIMITED says when to come back.
      if (typeof error.extensions?.retryAfterSeconds === "number") reply.header("retry-after", String(error.extensions.retryAfterSeconds));
      const code = String(error.extensions?.code);
      throw new RefgraphError(code in ERROR_CODES ? (code as ErrorCode) : "INTERNAL_SERVER_ERROR", error.message);
    }
    const { rows } = result.data!.campaignStats as { rows: { key: ExportRow; metrics: ExportRow }[] };
    return sendCsv(reply, "campaign-stats.csv", stats.columns, rows.map(({ key, metrics }) => snakeCased({ ...key, ...metrics })), escaped);
  });
}

/**
 * The campaignStats query with every argument as a variable, asking for every key and metric field: the CSV has the
 * same arguments, defaults, checks and numbers as GraphQL, and fixed columns (key fields not grouped by are empty).
 */
function campaignStatsQuery(schema: GraphQLSchema) {
  const { args } = schema.getQueryType()!.getFields().campaignStats;
  const fields = (type: string) => Object.keys((schema.getType(type) as GraphQLObjectType).getFields());
  const [key, metrics] = [fields("CampaignStatsKey"), fields("CampaignMetrics")];
  const query = `query CampaignStatsCsv(${args.map((arg) => `$${arg.name}: ${String(arg.type)}`).join(", ")}) {
    campaignStats(${args.map((arg) => `${arg.name}: $${arg.name}`).join(", ")}) { rows { key { ${key.join(" ")} } metrics { ${metrics.join(" ")} } } }
  }`;
  return { query, args, columns: [...key, ...metrics].map(snakeCase) };
}

const snakeCase = (name: string) => name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
const snakeCased = (row: ExportRow): ExportRow => Object.fromEntries(Object.entries(row).map(([name, value]) => [snakeCase(name), value]));

/**
 * GraphQL variables from query parameters: an argument by its name (`interval=DAY`), a list comma-separated
 * (`groupBy=CAMPAIGN,CHANNEL`, empty for none), an input object's fields as `argument.field` (`filter.campaign=summer`,
 * `orderBy.field=CONVERSIONS`). Values GraphQL cannot coerce are passed on as given, for GraphQL to refuse by name.
 */
function variablesOf(query: Record<string, string | string[]>, args: readonly GraphQLArgument[]): Record<string, unknown> {
  const variables: Record<string, Record<string, unknown>> = {};
  const parameters = args.map((arg) => (isInputObjectType(getNullableType(arg.type)) ? `${arg.name}.<field>` : arg.name));
  for (const [parameter, value] of Object.entries(query)) {
    if (Array.isArray(value)) throw badParameter(parameter, "is given more than once");
    const [name, field, ...rest] = parameter.split(".");
    const type = args.find((arg) => arg.name === name)?.type;
    const inputObject = type && getNullableType(type);
    if (isInputObjectType(inputObject) && field !== undefined && rest.length === 0) {
      const fieldType = inputObject.getFields()[field]?.type;
      if (!fieldType) throw badParameter(parameter, `is unknown; ${name} has ${Object.keys(inputObject.getFields()).map((f) => `${name}.${f}`).join(", ")}`);
      variables[name] = { ...variables[name], [field]: fromText(fieldType, value) };
    } else if (type && !isInputObjectType(inputObject) && field === undefined) (variables as Record<string, unknown>)[name] = fromText(type, value);
    else throw badParameter(parameter, `is unknown; this export takes ${[...parameters, ESCAPE_FORMULAS].join(", ")}`);
  }
  return variables;
}

function fromText(type: GraphQLInputType, text: string): unknown {
  const nullable = getNullableType(type);
  if (isListType(nullable)) return text === "" ? [] : text.split(",").map((item) => fromText(nullable.ofType, item));
  if (nullable === GraphQLInt && /^-?\d+$/.test(text)) return Number(text);
  if (nullable === GraphQLBoolean && (text === "true" || text === "false")) return text === "true";
  return text;
}

const badParameter = (name: string, problem: string) => new RefgraphError("BAD_USER_INPUT", `Parameter '${name}' ${problem}.`);

const ESCAPE_FORMULAS = "escapeFormulas";

/** escapeFormulas: `true` (the default) or `false`. */
function formulasEscaped(value: string | string[] | undefined): boolean {
  if (Array.isArray(value)) throw badParameter(ESCAPE_FORMULAS, "is given more than once");
  if (value === undefined || value === "true") return true;
  if (value === "false") return false;
  throw badParameter(ESCAPE_FORMULAS, "must be true or false");
}

/** The query string's parameters, refusing any not in `names` and any given twice. */
function queryParameters<Name extends string>(query: unknown, names: readonly Name[]): Partial<Record<Name, string>> {
  const parameters: Partial<Record<Name, string>> = {};
  for (const [name, value] of Object.entries(query as Record<string, string | string[]>)) {
    if (!names.includes(name as Name)) throw badParameter(name, `is unknown; this export takes ${names.join(", ")}`);
    if (Array.isArray(value)) throw badParameter(name, "is given more than once");
    parameters[name as Name] = value;
  }
  return parameters;
}

/** A half-open period [from, to), either end optional. */
function period(from: string | undefined, to: string | undefined): { from?: Date; to?: Date } {
  const parsed = { from: from === undefined ? undefined : time("from", from), to: to === undefined ? undefined : time("to", to) };
  if (parsed.from && parsed.to && parsed.from >= parsed.to) throw badParameter("from", "must be before to");
  return parsed;
}

function time(name: string, value: string): Date {
  try {
    // The check GraphQL applies to its from/to arguments (DateTimeISO).
    return GraphQLDateTimeISO.parseValue(value);
  } catch {
    throw badParameter(name, "must be an ISO 8601 date-time with a time zone, such as 2026-10-01T00:00:00Z");
  }
}

/**
 * Streams rows as RFC 4180 CSV under a header row: CRLF line ends, times in ISO 8601 UTC, booleans as true/false,
 * null as an empty field. With escapeFormulas, text that a spreadsheet would run as a formula (it begins with = + - @,
 * a tab or a CR, or a full-width = + - @) gets a leading ' (OWASP's CSV injection advice): refs and ad ids are typed
 * by strangers. Numbers are never altered; machine readers that want text raw turn it off.
 */
function sendCsv(
  reply: FastifyReply,
  filename: string,
  columns: readonly string[],
  rows: Iterable<ExportRow> | AsyncIterable<ExportRow>,
  escapeFormulas: boolean,
) {
  const csv = stringify({
    escape_formulas: escapeFormulas,
    header: true,
    columns: [...columns],
    record_delimiter: "windows",
    // csv-stringify quotes a field holding the whole CRLF; RFC 4180 wants a lone CR or LF quoted too.
    quoted_match: /[\r\n]/,
    cast: { boolean: String, date: (date) => date.toISOString() },
  });
  // An error, or the client leaving, stops reading rows and destroys csv. Fastify then logs the error and answers
  // 500 if nothing was sent yet, else cuts the connection: the client sees a truncated file, never the SQL.
  pipeline(Readable.from(rows), csv, () => undefined);
  return reply.type("text/csv; charset=utf-8").header("content-disposition", `attachment; filename="${filename}"`).send(csv);
}
