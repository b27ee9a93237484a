// What a dashboard's raw InfluxQL SELECT reads and returns, found by a small lexer and parser (not a full
// InfluxQL grammar): the measurements in FROM, the field keys the SELECT lists read, the output columns'
// aliases and the tag keys in WHERE and GROUP BY, through subqueries (`FROM (SELECT ...)`). Grafana's
// macros and variables ($timeFilter, /^$district$/, ${var}, [[var]]) may be left in the text.
//
// Identifiers are fields or tags by where they stand, as InfluxDB decides it: in a SELECT list an
// identifier is a field unless cast `::tag`; in WHERE, one compared with a string or a regex is a tag,
// with a number or a boolean a field (a `::tag` or `::field` cast decides first); every identifier in
// GROUP BY is a tag. A statement that reads only subqueries reads their columns, not fields, so it adds
// no field keys, but its tag keys pass through from the inner statement and are kept.

export interface QueryParts {
  /** Measurement names in FROM, of every statement (the last part of `db.rp.m`). */
  readonly measurements: string[];
  /** Regex sources in FROM (`FROM /^air_.*$/`), as written between the slashes. */
  readonly measurementPatterns: string[];
  /** Field keys read by statements that read measurements. */
  readonly fields: string[];
  /** `*` or a regex in a SELECT list, which reads fields not named here. */
  readonly fieldWildcard: boolean;
  /** Output column aliases of the outermost SELECT (`AS "x"`), in order. */
  readonly aliases: string[];
  /** Items of the outermost SELECT without an alias, as written. */
  readonly unaliased: string[];
  /** Tag keys in WHERE and GROUP BY (and `::tag` casts), of every statement. */
  readonly tags: string[];
}

export class QueryPartsError extends Error {
  readonly code = 'QUERY_PARTS_ERR_SYNTAX';
  constructor(message: string) {
    super(message);
    this.name = 'QueryPartsError';
  }
}

export type TokenKind = 'ident' | 'keyword' | 'string' | 'regex' | 'number' | 'macro' | 'op';
export interface Token {
  readonly kind: TokenKind;
  /** Identifiers unquoted, keywords upper-case, strings and regexes without their delimiters. */
  readonly value: string;
  readonly text: string;
}

const KEYWORDS = new Set(
  'SELECT FROM WHERE AND OR NOT GROUP BY ORDER LIMIT SLIMIT OFFSET SOFFSET AS FILL TZ ASC DESC INTO ON TRUE FALSE'.split(
    ' ',
  ),
);
// Tokens after which a `/` opens a regex rather than divides.
const OPERAND_END: ReadonlySet<TokenKind> = new Set(['ident', 'string', 'regex', 'number', 'macro']);

const LEXEMES: ReadonlyArray<readonly [TokenKind, RegExp]> = [
  ['ident', /"((?:\\.|[^"\\])*)"/y],
  ['string', /'((?:\\.|[^'\\])*)'/y],
  // A macro may carry a duration unit (`${__from}ms`, a time in epoch milliseconds).
  ['macro', /(?:\$\{[^}]*\}|\[\[[^\]]*\]\]|\$\w+)(?:ns|u|µ|ms|s|m|h|d|w)?(?!\w)/y],
  ['number', /\d+(?:\.\d+)?(?:[a-zµ]+)?/y],
  ['ident', /([A-Za-z_][A-Za-z0-9_]*)/y],
  ['op', /=~|!~|::|<>|!=|<=|>=|[-+*%=<>,;().]/y],
];
const REGEX_TOKEN = /\/((?:\\.|[^/\\\n])*)\//y;

export function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < query.length) {
    if (/\s/.test(query[i]!)) {
      i++;
      continue;
    }
    const prev = tokens.at(-1);
    const regexAllowed = !prev || !(OPERAND_END.has(prev.kind) || (prev.kind === 'op' && prev.value === ')'));
    const token = query[i] === '/' ? (regexAllowed ? lexRegex(query, i) : op('/')) : lexOne(query, i);
    tokens.push(token);
    i += token.text.length;
  }
  return tokens;
}

function op(text: string): Token {
  return { kind: 'op', value: text, text };
}

function lexRegex(query: string, at: number): Token {
  REGEX_TOKEN.lastIndex = at;
  const m = REGEX_TOKEN.exec(query);
  if (!m) throw new QueryPartsError(`unterminated regex at ${at}: ${query.slice(at, at + 40)}`);
  return { kind: 'regex', value: m[1]!, text: m[0] };
}

function lexOne(query: string, at: number): Token {
  for (const [kind, re] of LEXEMES) {
    re.lastIndex = at;
    const m = re.exec(query);
    if (!m) continue;
    const text = m[0];
    if (kind === 'ident' && text[0] !== '"' && KEYWORDS.has(text.toUpperCase())) {
      return { kind: 'keyword', value: text.toUpperCase(), text };
    }
    const value = kind === 'ident' || kind === 'string' ? unescape(m[1]!) : text;
    return { kind, value, text };
  }
  throw new QueryPartsError(`unexpected character at ${at}: ${query.slice(at, at + 40)}`);
}

const unescape = (s: string): string => s.replace(/\\(.)/g, '$1');

interface Statement {
  readonly items: Token[][];
  readonly measurements: string[];
  readonly patterns: string[];
  readonly subqueries: Statement[];
  readonly where: Token[];
  readonly groupBy: Token[];
}

const isKeyword = (t: Token | undefined, ...words: string[]) =>
  t?.kind === 'keyword' && words.includes(t.value);
const isOp = (t: Token | undefined, ...ops: string[]) => t?.kind === 'op' && ops.includes(t.value);

interface Cursor {
  peek(): Token | undefined;
  next(): Token;
  /** Tokens up to (not including) one that `stops` at depth 0, a `)` closing the statement, or `;`. */
  until(stops: (t: Token) => boolean): Token[];
}

function createCursor(tokens: readonly Token[]): Cursor {
  let pos = 0;
  const peek = () => tokens[pos];
  const next = (): Token => {
    const t = tokens[pos++];
    if (!t) throw new QueryPartsError('unexpected end of query');
    return t;
  };
  const until = (stops: (t: Token) => boolean): Token[] => {
    const out: Token[] = [];
    let depth = 0;
    for (let t = peek(); t; t = peek()) {
      if (depth === 0 && (stops(t) || isOp(t, ')', ';'))) break;
      if (isOp(t, '(')) depth++;
      if (isOp(t, ')')) depth--;
      out.push(next());
    }
    return out;
  };
  return { peek, next, until };
}

function expectKeyword(c: Cursor, word: string): void {
  const t = c.next();
  if (!isKeyword(t, word)) throw new QueryPartsError(`expected ${word}, found "${t.text}"`);
}

const WHERE_ENDS = ['GROUP', 'ORDER', 'LIMIT', 'SLIMIT', 'OFFSET', 'SOFFSET', 'TZ', 'FILL'];
const GROUP_BY_ENDS = ['FILL', 'ORDER', 'LIMIT', 'SLIMIT', 'OFFSET', 'SOFFSET', 'TZ'];
// Inside ORDER BY ... DESC the words BY, ASC and DESC do not end the clause.
const isClauseStart = (t: Token) => t.kind === 'keyword' && !['BY', 'ASC', 'DESC'].includes(t.value);

function parseStatement(c: Cursor): Statement {
  expectKeyword(c, 'SELECT');
  const items = splitTopLevel(c.until((t) => isKeyword(t, 'FROM', 'INTO')));
  if (isKeyword(c.peek(), 'INTO')) throw new QueryPartsError('SELECT ... INTO is not a dashboard query');
  expectKeyword(c, 'FROM');
  const st: Statement = { items, measurements: [], patterns: [], subqueries: [], where: [], groupBy: [] };
  parseSources(c, st);
  for (let t = c.peek(); t && !isOp(t, ')', ';'); t = c.peek()) {
    c.next();
    if (isKeyword(t, 'WHERE')) st.where.push(...c.until((u) => isKeyword(u, ...WHERE_ENDS)));
    else if (isKeyword(t, 'GROUP')) {
      expectKeyword(c, 'BY');
      st.groupBy.push(...c.until((u) => isKeyword(u, ...GROUP_BY_ENDS)));
    } else c.until(isClauseStart);
  }
  return st;
}

function parseSources(c: Cursor, st: Statement): void {
  for (;;) {
    const t = c.next();
    if (isOp(t, '(')) {
      st.subqueries.push(parseStatement(c));
      if (!isOp(c.next(), ')')) throw new QueryPartsError('subquery not closed');
    } else if (t.kind === 'regex') st.patterns.push(t.value);
    else if (t.kind === 'ident' || t.kind === 'macro') {
      let name = t;
      while (isOp(c.peek(), '.')) {
        c.next();
        name = c.next();
      }
      st.measurements.push(name.value);
    } else throw new QueryPartsError(`unexpected "${t.text}" in FROM`);
    if (!isOp(c.peek(), ',')) return;
    c.next();
  }
}

function splitTopLevel(tokens: Token[]): Token[][] {
  const parts: Token[][] = [[]];
  let depth = 0;
  for (const t of tokens) {
    if (isOp(t, '(')) depth++;
    if (isOp(t, ')')) depth--;
    if (depth === 0 && isOp(t, ',')) parts.push([]);
    else parts.at(-1)!.push(t);
  }
  return parts.filter((p) => p.length > 0);
}

/** An identifier that names a column: not a function name, not a cast's type, not `time`. */
function columnRef(tokens: Token[], i: number): boolean {
  const t = tokens[i]!;
  return (
    t.kind === 'ident' &&
    !isOp(tokens[i + 1], '(') &&
    !isOp(tokens[i - 1], '::') &&
    t.value.toLowerCase() !== 'time'
  );
}

const castOf = (tokens: Token[], i: number): string | undefined =>
  isOp(tokens[i + 1], '::') ? tokens[i + 2]?.value.toLowerCase() : undefined;

function itemParts(item: Token[]): { alias?: string; fields: string[]; tags: string[]; wildcard: boolean } {
  const hasAlias = item.length >= 3 && isKeyword(item.at(-2), 'AS');
  const body = hasAlias ? item.slice(0, -2) : item;
  const fields: string[] = [];
  const tags: string[] = [];
  let wildcard = false;
  body.forEach((t, i) => {
    if (t.kind === 'regex' || (isOp(t, '*') && (i === 0 || isOp(body[i - 1], '(')))) wildcard = true;
    if (!columnRef(body, i)) return;
    (castOf(body, i) === 'tag' ? tags : fields).push(t.value);
  });
  return { ...(hasAlias ? { alias: item.at(-1)!.value } : {}), fields, tags, wildcard };
}

/** Identifiers in a WHERE clause, told apart by what they are compared with. */
function whereParts(where: Token[]): { fields: string[]; tags: string[] } {
  const fields: string[] = [];
  const tags: string[] = [];
  where.forEach((t, i) => {
    if (!columnRef(where, i)) return;
    const cast = castOf(where, i);
    if (cast === 'tag' || cast === 'field') return void (cast === 'tag' ? tags : fields).push(t.value);
    const operator = where[cast === undefined ? i + 1 : i + 3];
    const operand = where[cast === undefined ? i + 2 : i + 4];
    if (operator?.kind !== 'op') return;
    if (isOp(operator, '=~', '!~') || operand?.kind === 'string' || operand?.kind === 'regex')
      tags.push(t.value);
    else if (operand?.kind === 'number' || isKeyword(operand, 'TRUE', 'FALSE')) fields.push(t.value);
    else if (isOp(operator, '=', '!=', '<>')) tags.push(t.value);
    else fields.push(t.value);
  });
  return { fields, tags };
}

const groupByTags = (groupBy: Token[]): string[] =>
  groupBy.filter((t, i) => columnRef(groupBy, i)).map((t) => t.value);

/** Parses one SELECT statement (with its subqueries). Throws QueryPartsError on what it cannot read. */
export function queryParts(query: string): QueryParts {
  const cursor = createCursor(tokenize(query));
  const top = parseStatement(cursor);
  if (isOp(cursor.peek(), ';')) cursor.next();
  const rest = cursor.peek();
  if (rest) throw new QueryPartsError(`unexpected "${rest.text}" after the statement`);

  const measurements = new Set<string>();
  const patterns = new Set<string>();
  const fields = new Set<string>();
  const tags = new Set<string>();
  let fieldWildcard = false;
  const visit = (st: Statement): void => {
    const readsMeasurements = st.measurements.length + st.patterns.length > 0;
    st.measurements.forEach((m) => measurements.add(m));
    st.patterns.forEach((p) => patterns.add(p));
    const where = whereParts(st.where);
    for (const item of st.items.map(itemParts)) {
      if (readsMeasurements) item.fields.forEach((f) => fields.add(f));
      item.tags.forEach((t) => tags.add(t));
      if (readsMeasurements && item.wildcard) fieldWildcard = true;
    }
    if (readsMeasurements) where.fields.forEach((f) => fields.add(f));
    [...where.tags, ...groupByTags(st.groupBy)].forEach((t) => tags.add(t));
    st.subqueries.forEach(visit);
  };
  visit(top);

  const aliases: string[] = [];
  const unaliased: string[] = [];
  for (const item of top.items) {
    const { alias } = itemParts(item);
    if (alias === undefined) unaliased.push(item.map((t) => t.text).join(' '));
    else aliases.push(alias);
  }
  return {
    measurements: [...measurements],
    measurementPatterns: [...patterns],
    fields: [...fields],
    fieldWildcard,
    aliases,
    unaliased,
    tags: [...tags],
  };
}
