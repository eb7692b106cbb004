/** ts-jest keeps decorator metadata (type-graphql and TypeORM need it); with isolatedModules (tsconfig) it skips type-checking, which `npm run build` does. */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": "ts-jest" },
  setupFiles: ["reflect-metadata"],
  testTimeout: 60000,
};
