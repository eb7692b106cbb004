import { Arg, Args, Ctx, Mutation, Query, Resolver } from "type-graphql";
import { Connection, PageArgs } from "../graphql/connection";
import { Context } from "../graphql/context";
import { WebhookEvent } from "./webhook-event.entity";
import { WebhookEventFilter } from "./webhook-event-filter";

const WebhookEventConnection = Connection(WebhookEvent, "WebhookEvent");

@Resolver(() => WebhookEvent)
export class WebhookEventResolver {
  @Query(() => WebhookEventConnection, { description: "The inbox: every accepted webhook, newest first." })
  async webhookEvents(
    @Args() page: PageArgs,
    @Arg("filter", () => WebhookEventFilter, { nullable: true }) filter: WebhookEventFilter | undefined,
    @Ctx() ctx: Context,
  ) {
    return Object.assign(new WebhookEventConnection(), await ctx.services.webhookEvents.list(filter ?? {}, page));
  }

  @Mutation(() => WebhookEvent, { description: "Applies a FAILED event again from its stored body; returns it with its new status." })
  async replayWebhookEvent(@Arg("id") id: string, @Ctx() ctx: Context) {
    return (await ctx.services.webhookEvents.replay(id)).event;
  }
}
