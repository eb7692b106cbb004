import { randomUUID } from "node:crypto";
import { DataSource, Repository } from "typeorm";
import { retryWhenBusy, writeTransaction } from "../db/busy";
import { notFound } from "../errors";
import { GreetingRule } from "./greeting-rule.entity";
import { assertValid, CreateGreetingRuleInput, UpdateGreetingRuleInput } from "./greeting-rule.inputs";

/** Reads on the reader; writes are transactions on the writer (writeTransaction). */
export class GreetingRuleService {
  constructor(
    private readonly writer: DataSource,
    private readonly db: DataSource,
  ) {}

  /** Every rule, in the order they are tried: highest priority first, then oldest. */
  list(): Promise<GreetingRule[]> {
    return this.db.getRepository(GreetingRule).find({ order: { priority: "DESC", createdAt: "ASC", id: "ASC" } });
  }

  async create(input: CreateGreetingRuleInput, now: Date): Promise<GreetingRule> {
    assertValid(input);
    const rule = Object.assign(new GreetingRule(), { ...input, id: randomUUID(), platform: input.platform ?? null, createdAt: now, updatedAt: now });
    return this.write((rules) => rules.save(rule, { transaction: false }));
  }

  async update(id: string, input: UpdateGreetingRuleInput, now: Date): Promise<GreetingRule> {
    assertValid(input);
    const rule = await this.get(id);
    const changes = Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined));
    return this.write((rules) => rules.save(Object.assign(rule, changes, { updatedAt: now }), { transaction: false }));
  }

  /** Deletes the rule and answers it as it was. */
  async delete(id: string): Promise<GreetingRule> {
    const rule = await this.get(id);
    await this.write((rules) => rules.delete({ id }));
    return rule;
  }

  private write<T>(work: (rules: Repository<GreetingRule>) => Promise<T>): Promise<T> {
    // writeTransaction opened the transaction itself, unknown to TypeORM: save() must not open another.
    return retryWhenBusy(() => writeTransaction(this.writer, (manager) => work(manager.getRepository(GreetingRule))));
  }

  private async get(id: string): Promise<GreetingRule> {
    const rule = await this.db.getRepository(GreetingRule).findOneBy({ id });
    if (!rule) throw notFound(`Greeting rule '${id}'`);
    return rule;
  }
}
