#!/usr/bin/env node
// Microsoft's KQL analyzer (@kusto/language-service-next) over Powerwatch's scripts.
// stdin : {"database": {"name", "tables": [{"name", "schema": "(A:string, ...)"}],
//          "functions": [{"name", "parameters": "(x:long)", "body": "{ ... }", "docstring"}],
//          "views": [{"name", "query", "docstring"}]},
//          "items": [{"id", "text"}]}
// stdout: {"results": [{"id", "diagnostics": [{"severity", "code", "message", "start", "end"}],
//          "columns": [[name, type], ...] | null}], "views": {name: [[name, type], ...]}}
// One process checks every item, so the pytest suite pays node's start-up once.
'use strict';
const path = require('path');
const fs = require('fs');

const pkg = path.join(__dirname, '..', '..', 'node_modules', '@kusto', 'language-service-next');
// bridge.js defines the Bridge.NET runtime as globals the Kusto bundle expects.
global.Bridge = require(path.join(pkg, 'bridge.js'));
require(path.join(pkg, 'Kusto.Language.Bridge.js'));
const K = global.Kusto.Language;
const Sym = K.Symbols;

function toArray(list) {
  const out = [];
  if (!list) return out;
  const n = list.Count;
  for (let i = 0; i < n; i++) out.push(list.getItem(i));
  return out;
}

function columnsOf(type) {
  if (!type || !(type instanceof Sym.TableSymbol)) return null;
  return toArray(type.Columns).map((c) => [c.Name, c.Type.Name]);
}

function buildGlobals(db) {
  const members = [];
  for (const t of db.tables) members.push(new Sym.TableSymbol.$ctor7(t.name, t.schema, t.docstring || null));
  for (const f of db.functions) {
    members.push(new Sym.FunctionSymbol.$ctor16(f.name, f.parameters, f.body, f.docstring || null));
  }
  let globals = K.GlobalState.Default.WithDatabase(new Sym.DatabaseSymbol.$ctor1(db.name, members, false));
  // A view's columns are whatever its query returns: ask the analyzer, then add it.
  const viewColumns = {};
  for (const v of db.views || []) {
    const code = K.KustoCode.ParseAndAnalyze(v.query, globals);
    const cols = columnsOf(code.ResultType) || [];
    viewColumns[v.name] = cols;
    const schema = '(' + cols.map(([n, t]) => `['${n}']:${t}`).join(', ') + ')';
    members.push(new Sym.MaterializedViewSymbol.$ctor3(v.name, schema, v.query, v.docstring || null));
    globals = K.GlobalState.Default.WithDatabase(new Sym.DatabaseSymbol.$ctor1(db.name, members, false));
  }
  return { globals, viewColumns };
}

function check(globals, text) {
  const code = K.KustoCode.ParseAndAnalyze(text, globals);
  const diagnostics = toArray(code.GetDiagnostics()).map((d) => ({
    severity: d.Severity,
    code: d.Code,
    message: d.Message,
    start: d.Start,
    end: d.Start + d.Length,
  }));
  return { diagnostics, columns: columnsOf(code.ResultType), kind: code.Kind };
}

function main() {
  const input = JSON.parse(fs.readFileSync(0, 'utf8'));
  const { globals, viewColumns } = buildGlobals(input.database);
  const results = input.items.map((item) => ({ id: item.id, ...check(globals, item.text) }));
  process.stdout.write(JSON.stringify({ results, views: viewColumns }));
}

main();
