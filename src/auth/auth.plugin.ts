import { ApolloServerPlugin } from "@apollo/server";
import { forbidden, unauthenticated } from "../errors";
import { Context } from "../graphql/context";

/** Scope read = queries; write and admin = queries and mutations. Runs before any resolver. */
export const authPlugin: ApolloServerPlugin<Context> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ contextValue, operation }) {
        const caller = contextValue.caller;
        if (!caller) throw unauthenticated();
        if (operation && operation.operation !== "query" && caller.scope === "read")
          throw forbidden(`The API key '${caller.name}' has scope read; ${operation.operation}s need scope write.`);
      },
    };
  },
};
