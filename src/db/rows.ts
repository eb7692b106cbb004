import { EntityManager, EntityTarget, ObjectLiteral } from "typeorm";
import { parameterList } from "./bulk-insert";

/**
 * The entity rows a raw WHERE clause selects, hydrated column by column through the driver (types, transformers):
 * TypeORM's query builder and its entity hydration cost more than the query itself on the ingest path.
 */
export async function selectRows<E extends ObjectLiteral>(manager: EntityManager, entity: EntityTarget<E>, where: string, parameters: unknown[] = []): Promise<E[]> {
  const metadata = manager.connection.getMetadata(entity);
  const driver = manager.connection.driver;
  const columns = metadata.columns;
  const raw: Record<string, unknown>[] = await manager.query(`SELECT ${columns.map((c) => c.databaseName).join(", ")} FROM ${metadata.tableName} WHERE ${where}`, parameters);
  return raw.map((row) => {
    const entityRow = metadata.create() as E;
    for (const column of columns) column.setEntityValue(entityRow, driver.prepareHydratedValue(row[column.databaseName], column));
    return entityRow;
  });
}

/** The rows with these ids, by id. */
export async function rowsById<E extends ObjectLiteral & { id: string }>(manager: EntityManager, entity: EntityTarget<E>, ids: Iterable<string>): Promise<Map<string, E>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const rows = await selectRows(manager, entity, `id IN (${parameterList(manager.connection, unique.length)})`, unique);
  return new Map(rows.map((row) => [row.id, row]));
}
