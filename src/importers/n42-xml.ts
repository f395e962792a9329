import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * XML layer of the ANSI N42.42 importer: well-formedness, the namespace check, and a plain
 * element tree with namespace prefixes stripped. Knows nothing about N42 content (see n42.ts).
 */

/** The N42.42-2011 namespace (docs/protocols.md §6). */
export const N42_NAMESPACE = 'http://physics.nist.gov/N42/2011/N42';
/** The 2006 schema's namespace: recognised only to say clearly that it is not supported. */
export const N42_2006_NAMESPACE = 'http://physics.nist.gov/Divisions/Div846/Gp4/ANSIN4242/2005/ANSIN4242';

/** An element: attributes as `@_name`, text as `#text`, children by local name. */
export type XmlNode = { [key: string]: XmlValue };
export type XmlValue = string | XmlNode | XmlValue[];

/** Elements that may repeat in N42.42-2011; always parsed as arrays so one and many look alike. */
const REPEATING = new Set([
  'RadInstrumentVersion',
  'RadDetectorInformation',
  'RadMeasurement',
  'Spectrum',
  'GrossCounts',
  'DoseRate',
  'TotalDose',
  'ExposureRate',
  'EnergyCalibration',
]);

const localName = (name: string): string => name.slice(name.indexOf(':') + 1);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  // Values stay strings: numbers are parsed by the N42 layer, which says which element was bad.
  parseTagValue: false,
  parseAttributeValue: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  processEntities: false,
  isArray: (tagName) => REPEATING.has(localName(tagName)),
});

/** Result of reading one document: the root element (prefixes stripped) or what is wrong. */
export type XmlResult = { ok: true; root: XmlNode; rootName: string } | { ok: false; problem: string };

/**
 * Parses one N42 document. Undeclared vendor prefixes (`<DHS:InterSpec>` without `xmlns:DHS`,
 * docs/protocols.md §6.2) are tolerated because the parser is not namespace-aware; the namespace that
 * matters, the root element's, is checked explicitly before prefixes are stripped.
 */
export function parseN42Xml(text: string): XmlResult {
  // N42 never needs a DTD; refusing one rules out entity-expansion tricks in untrusted files.
  if (/<!DOCTYPE/i.test(text)) return { ok: false, problem: 'a DOCTYPE is not allowed in an N42 document' };
  const valid = XMLValidator.validate(text);
  if (valid !== true)
    return { ok: false, problem: `not well-formed XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})` };
  let doc: XmlNode;
  try {
    doc = parser.parse(text) as XmlNode;
  } catch (e) {
    return { ok: false, problem: `not well-formed XML: ${(e as Error).message}` };
  }
  const roots = Object.keys(doc).filter((k) => !k.startsWith('#') && !k.startsWith('?'));
  if (roots.length !== 1) return { ok: false, problem: `expected one root element, found ${roots.length}` };
  const rawName = roots[0] as string;
  const rootValue = doc[rawName];
  const root: XmlNode = typeof rootValue === 'object' && !Array.isArray(rootValue) ? rootValue : {};
  const prefix = rawName.includes(':') ? rawName.slice(0, rawName.indexOf(':')) : undefined;
  const ns = root[prefix ? `@_xmlns:${prefix}` : '@_xmlns'];
  const rootName = localName(rawName);
  if (ns === N42_2006_NAMESPACE || rootName === 'N42InstrumentData')
    return { ok: false, problem: 'this is an N42.42-2006 document (N42InstrumentData); only N42.42-2011 is supported' };
  if (ns !== N42_NAMESPACE)
    return {
      ok: false,
      problem: `root element <${rawName}> is not in the N42.42-2011 namespace ${N42_NAMESPACE} (found ${typeof ns === 'string' ? ns : 'none'})`,
    };
  return { ok: true, root: stripPrefixes(root), rootName };
}

/** Drops namespace prefixes from element and attribute names; xmlns declarations go. */
function stripPrefixes(node: XmlNode): XmlNode {
  const out: XmlNode = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '@_xmlns' || key.startsWith('@_xmlns:')) continue;
    const name = key.startsWith('@_') ? `@_${localName(key.slice(2))}` : key.startsWith('#') ? key : localName(key);
    const stripped = stripValue(value);
    const existing = out[name];
    // `<a:X>` and `<b:X>` side by side become one list, as if unprefixed.
    if (existing === undefined) out[name] = stripped;
    else out[name] = [...(Array.isArray(existing) ? existing : [existing]), ...(Array.isArray(stripped) ? stripped : [stripped])];
  }
  return out;
}

function stripValue(value: XmlValue): XmlValue {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(stripValue);
  return stripPrefixes(value);
}

/** The children named `name`, as a list (empty when absent). */
export function children(node: XmlNode, name: string): XmlValue[] {
  const v = node[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** The element's own text, trimmed; `<X/>` and `<X a="1"/>` give ''. */
export function textOf(value: XmlValue | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value.trim();
  if (Array.isArray(value)) return textOf(value[0]);
  const t = value['#text'];
  return typeof t === 'string' ? t.trim() : '';
}

/** An attribute's value, when the element has it. */
export function attrOf(value: XmlValue | undefined, name: string): string | undefined {
  if (value === undefined || typeof value === 'string' || Array.isArray(value)) return undefined;
  const a = value[`@_${name}`];
  return typeof a === 'string' ? a : undefined;
}

/** The value as an element node (a bare text element becomes `{ '#text': … }`). */
export function asNode(value: XmlValue | undefined): XmlNode | undefined {
  if (value === undefined || Array.isArray(value)) return undefined;
  return typeof value === 'string' ? { '#text': value } : value;
}
