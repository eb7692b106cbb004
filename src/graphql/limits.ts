import { ApolloServerPlugin, HeaderMap } from "@apollo/server";
import { ASTVisitor, DocumentNode, getOperationAST, getVariableValues, GraphQLError, GraphQLSchema, OperationDefinitionNode, ValidationContext } from "graphql";
import { beforeExecution, RefgraphError } from "../errors";
import { Context } from "./context";
import { BudgetLimits, CostBudgets } from "./cost-budget";
import { documentShape, operationCost } from "./query-cost";

export interface QueryLimits {
  maxDepth: number;
  maxCost: number;
  budget: BudgetLimits;
}

/** /graphql's body limit: the longest document allowed, each character up to 3 bytes of UTF-8, and 64 KiB for the rest. */
export const graphqlBodyLimit = (maxDocumentLength: number) => 3 * maxDocumentLength + 64 * 1024;

/** Documents with more fields than this are refused before validation, whose field-merging check is quadratic. */
export const MAX_FIELDS = 500;

/** Shopify's `extensions.cost`: what the document costs and what the caller's budget holds now. */
export function costExtension(cost: number, budget: BudgetLimits, available: number | null) {
  return {
    requestedQueryCost: cost,
    ...(available === null
      ? {}
      : { throttleStatus: { maximumAvailable: budget.capacity, currentlyAvailable: Math.floor(available), restoreRate: budget.restorePerSecond } }),
  };
}

// A document refused before validation, and why: read by refuseBeforeValidation, which Apollo runs first thing in
// validation. Apollo answers an error thrown from a plugin's validationDidStart with a 500, so the refusal goes
// through validation, as its first and only error.
const refusedDocuments = new WeakMap<DocumentNode, GraphQLError>();

/**
 * A validation rule that reports the refusal queryLimitsPlugin found for this document, if any, and then skips the
 * whole document for every rule: graphql-js's own checks never see an over-limit document.
 */
export function refuseBeforeValidation(context: ValidationContext): ASTVisitor {
  return {
    Document() {
      const refusal = refusedDocuments.get(context.getDocument());
      if (!refusal) return undefined;
      context.reportError(refusal);
      return null;
    },
  };
}

/**
 * Measures each document before validation (depth, fields, cost: each linear in its size) and each operation before
 * execution (its variables, its cost against the limit and against the caller's budget); adds extensions.cost to
 * every answer.
 */
export function queryLimitsPlugin(schema: GraphQLSchema, limits: QueryLimits): ApolloServerPlugin<Context> {
  const budgets = new CostBudgets(limits.budget);
  const tooComplex = (message: string, details: Record<string, unknown> = {}) => new RefgraphError("QUERY_TOO_COMPLEX", message, details);
  const availableTo = ({ costKey, now }: Context) => (costKey ? budgets.available(costKey, now.getTime()) : null);
  const tooCostly = (cost: number, context: Context) =>
    tooComplex(
      `The query would cost ${cost} (each field once per row the lists around it may return); the limit is ${limits.maxCost}. Ask for fewer rows ('first', a shorter range or a longer interval) or fewer fields.`,
      { cost: costExtension(cost, limits.budget, availableTo(context)) },
    );
  const costOf = (document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown> | undefined, now: Date) => {
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {});
    return coerced.errors ? { errors: coerced.errors } : { cost: operationCost(schema, document, operation, coerced.coerced, now) };
  };

  return {
    async requestDidStart() {
      let cost: number | undefined;
      return {
        async validationDidStart({ document, request, contextValue }) {
          const shape = documentShape(document);
          let refusal: GraphQLError | undefined;
          if (shape.depth > limits.maxDepth)
            refusal = tooComplex(`The query nests fields ${shape.depth} deep; the limit is ${limits.maxDepth} (GRAPHQL_MAX_DEPTH).`);
          else if (shape.fields > MAX_FIELDS)
            refusal = tooComplex(`The query selects ${shape.fields} fields, fragments expanded; the limit is ${MAX_FIELDS}.`);
          else {
            // Costed now when its variables can be read; otherwise validation and didResolveOperation say what is wrong.
            const operation = getOperationAST(document, request.operationName);
            cost = operation ? costOf(document, operation, request.variables, contextValue.now).cost : undefined;
            if (cost !== undefined && cost > limits.maxCost) refusal = tooCostly(cost, contextValue);
          }
          if (refusal) refusedDocuments.set(document, refusal);
        },

        async didResolveOperation({ document, operation, request, contextValue }) {
          if (!operation) return;
          if (cost === undefined) {
            const costed = costOf(document, operation, request.variables, contextValue.now);
            // Costing reads `first` from the variables, so a variable GraphQL cannot coerce is refused here, by name.
            if (costed.errors) throw beforeExecution("BAD_USER_INPUT", costed.errors[0].message);
            cost = costed.cost;
          }
          if (cost > limits.maxCost) throw tooCostly(cost, contextValue);
          if (!contextValue.costKey) return;
          const now = contextValue.now.getTime();
          const draw = budgets.draw(contextValue.costKey, cost, now);
          if (!draw.allowed)
            throw new RefgraphError(
              "RATE_LIMITED",
              `The query costs ${cost} and this key's budget holds ${Math.floor(draw.bucket.available)} now, restoring ${limits.budget.restorePerSecond} a second: retry in ${draw.retryAfterSeconds} s.`,
              {
                http: { status: 429, headers: new HeaderMap([["retry-after", String(draw.retryAfterSeconds)]]) },
                retryAfterSeconds: draw.retryAfterSeconds,
                cost: costExtension(cost, limits.budget, draw.bucket.available),
              },
            );
        },

        async willSendResponse({ response, contextValue }) {
          if (cost === undefined || response.body.kind !== "single") return;
          const result = response.body.singleResult;
          result.extensions = { ...result.extensions, cost: costExtension(cost, limits.budget, availableTo(contextValue)) };
        },
      };
    },
  };
}
