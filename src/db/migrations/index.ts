import { CreateCoreTables1764057600000 } from "./1764057600000-CreateCoreTables";
import { AddReferralAnalytics1795564800000 } from "./1795564800000-AddReferralAnalytics";

/** Every migration, oldest first. A committed migration is never edited: a new one corrects it. */
export const migrations = [CreateCoreTables1764057600000, AddReferralAnalytics1795564800000];
