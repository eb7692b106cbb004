import { QueryFailedError } from "typeorm";
import { classifyDatabaseError } from "../../src/db/faults";

const withCode = (code: string, message = "x") => Object.assign(new Error(message), { code });

describe("classifyDatabaseError", () => {
  it.each([
    ["SQLITE_BUSY", "busy"],
    ["SQLITE_FULL", "disk_full"],
    ["SQLITE_IOERR", "io"],
    ["08006", "connection"],
    ["57P01", "shutdown"],
    ["57014", "timeout"],
    ["53100", "disk_full"],
    ["53300", "resources"],
    ["40P01", "busy"],
    ["ECONNRESET", "connection"],
    ["ECONNREFUSED", "connection"],
  ])("%s is a fault of the database or the connection (%s)", (code, label) => {
    expect(classifyDatabaseError(withCode(code))).toEqual({ label, fault: true });
  });

  it.each([
    ["SQLITE_CONSTRAINT", "constraint"],
    ["SQLITE_TOOBIG", "toobig"],
    ["22021", "sqlstate_22"],
    ["54000", "sqlstate_54"],
    ["23505", "sqlstate_23"],
  ])("%s belongs to the data written (%s)", (code, label) => {
    expect(classifyDatabaseError(withCode(code))).toEqual({ label, fault: false });
  });

  it("knows node-postgres's connection and timeout errors, which carry no code, also wrapped by TypeORM", () => {
    expect(classifyDatabaseError(new Error("Connection terminated unexpectedly"))).toEqual({ label: "connection", fault: true });
    expect(classifyDatabaseError(new Error("Query read timeout"))).toEqual({ label: "timeout", fault: true });
    const wrapped = new QueryFailedError("SELECT 1", [], new Error("Connection terminated unexpectedly"));
    expect(classifyDatabaseError(wrapped)).toEqual({ label: "connection", fault: true });
    expect(classifyDatabaseError(new QueryFailedError("SELECT 1", [], withCode("SQLITE_FULL", "SQLITE_FULL: database or disk is full")))).toEqual({ label: "disk_full", fault: true });
  });

  it("anything else is not a fault", () => {
    expect(classifyDatabaseError(new TypeError("x is undefined"))).toEqual({ label: "other", fault: false });
    expect(classifyDatabaseError("a string")).toEqual({ label: "other", fault: false });
    expect(classifyDatabaseError(undefined)).toEqual({ label: "other", fault: false });
  });
});
