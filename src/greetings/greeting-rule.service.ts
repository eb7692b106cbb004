import { randomUUID } from "node:crypto";
import { DataSource } from "typeorm";
import { retryWhenBusy } from "../db/busy";
import { notFound } from "../errors";
import { GreetingRule } from "./greeting-rule.entity";
import { assertValid, CreateGreetingRuleInput, UpdateGreetingRuleInput } from "./greeting-rule.inputs";

/** Writes on the read connection, as single statements outside ingestion's transactions (see GreetingService). */
export class GreetingRuleService {
  constructor(private readonly db: DataSource) {}

  /** Every rule, in the order they are tried: highest priority first, then oldest. */
  list(): Promise<GreetingRule[]> {
    return this.db.getRepository(GreetingRule).find({ order: { priority: "DESC", createdAt: "ASC", id: "ASC" } });
  }

  async create(input: CreateGreetingRuleInput, now: Date): Promise<GreetingRule> {
    assertValid(input);
    const rule = Object.assign(new GreetingRule(), { ...input, id: randomUUID(), platform: input.platform ?? null, createdAt: now, updatedAt: now });
    return retryWhenBusy(() => this.db.getRepository(GreetingRule).save(rule));
  }

  async update(id: string, input: UpdateGreetingRuleInput, now: Date): Promise<GreetingRule> {
    assertValid(input);
    const rule = await this.get(id);
    const changes = Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined));
    return retryWhenBusy(() => this.db.getRepository(GreetingRule).save(Object.assign(rule, changes, { updatedAt: now })));
  }

  /** Deletes the rule and answers it as it was. */
  async delete(id: string): Promise<GreetingRule> {
    const rule = await this.get(id);
    await retryWhenBusy(() => this.db.getRepository(GreetingRule).delete({ id }));
    return rule;
  }

  private async get(id: string): Promise<GreetingRule> {
    const rule = await this.db.getRepository(GreetingRule).findOneBy({ id });
    if (!rule) throw notFound(`Greeting rule '${id}'`);
    return rule;
  }
}
