import { ApolloServerPlugin } from "@apollo/server";
import { DocumentNode, FragmentDefinitionNode, getVariableValues, GraphQLSchema, Kind, OperationDefinitionNode, SelectionSetNode } from "graphql";
import { fieldExtensionsEstimator, getComplexity, simpleEstimator } from "graphql-query-complexity";
import { RefgraphError } from "../errors";

export const MAX_DEPTH = 10;
/** Every field costs 1, paid `first` times inside a connection: 100 chats with 20 referrals each fit; 100 × 100 does not. */
export const MAX_COMPLEXITY = 20_000;

/** How deeply an operation nests fields, following fragments; introspection fields are not counted. */
export function operationDepth(operation: OperationDefinitionNode, document: DocumentNode): number {
  const fragments = new Map(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]),
  );
  const depth = (selectionSet: SelectionSetNode | undefined, seen: ReadonlySet<string>): number =>
    Math.max(
      0,
      ...(selectionSet?.selections ?? []).map((selection) => {
        if (selection.kind === Kind.FIELD) return selection.name.value.startsWith("__") ? 0 : 1 + depth(selection.selectionSet, seen);
        if (selection.kind === Kind.INLINE_FRAGMENT) return depth(selection.selectionSet, seen);
        const name = selection.name.value;
        return seen.has(name) ? 0 : depth(fragments.get(name)?.selectionSet, new Set([...seen, name]));
      }),
    );
  return depth(operation.selectionSet, new Set());
}

/** Refuses over-deep or over-costly operations before any resolver runs. */
export function queryLimitsPlugin(schema: GraphQLSchema): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, operation }) {
          if (!operation) return;
          const depth = operationDepth(operation, document);
          if (depth > MAX_DEPTH)
            throw new RefgraphError("QUERY_TOO_COMPLEX", `The query nests fields ${depth} deep; the limit is ${MAX_DEPTH}.`);
          // Costing reads `first` from the variables, so a variable GraphQL cannot coerce is refused here, by name.
          const { errors } = getVariableValues(schema, operation.variableDefinitions ?? [], request.variables ?? {});
          if (errors) throw new RefgraphError("BAD_USER_INPUT", errors[0].message);
          const complexity = getComplexity({
            schema,
            query: document,
            operationName: request.operationName ?? undefined,
            variables: request.variables,
            estimators: [fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })],
          });
          if (complexity > MAX_COMPLEXITY)
            throw new RefgraphError(
              "QUERY_TOO_COMPLEX",
              `The query would cost ${complexity} (each field once per item of a list); the limit is ${MAX_COMPLEXITY}. Ask for smaller pages ('first').`,
            );
        },
      };
    },
  };
}
