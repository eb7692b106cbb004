import { CreateCoreTables1764057600000 } from "./1764057600000-CreateCoreTables";

/** Every migration, oldest first. A committed migration is never edited: a new one corrects it. */
export const migrations = [CreateCoreTables1764057600000];
