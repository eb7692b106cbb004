import { CreateCoreTables1764057600000 } from "./1764057600000-CreateCoreTables";
import { AddReferralAnalytics1795564800000 } from "./1795564800000-AddReferralAnalytics";
import { AddBiViews1796083200000 } from "./1796083200000-AddBiViews";
import { AddReferralRevision1796688000000 } from "./1796688000000-AddReferralRevision";
import { CreateGreetings1796774400000 } from "./1796774400000-CreateGreetings";
import { CreateGreetingRules1796860800000 } from "./1796860800000-CreateGreetingRules";
import { AddGreetingReferralIndex1796947200000 } from "./1796947200000-AddGreetingReferralIndex";
import { CreateReadinessProbe1797033600000 } from "./1797033600000-CreateReadinessProbe";

/** Every migration, oldest first. A committed migration is never edited: a new one corrects it. */
export const migrations = [CreateCoreTables1764057600000, AddReferralAnalytics1795564800000, AddBiViews1796083200000, AddReferralRevision1796688000000, CreateGreetings1796774400000, CreateGreetingRules1796860800000, AddGreetingReferralIndex1796947200000, CreateReadinessProbe1797033600000];
