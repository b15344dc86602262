// XMP sidecar with the labels as dc:subject keywords (read by digiKam, darktable, Lightroom) and as
// lr:hierarchicalSubject under "Sift|". Written next to the exported file; the original is never modified.
import { XMLValidator } from 'fast-xml-parser';

const NS = { dc: 'http://purl.org/dc/elements/1.1/', lr: 'http://ns.adobe.com/lightroom/1.0/' } as const;

// control characters other than tab and newlines are not allowed in XML 1.0: dropped from the keywords
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0B\x0C\x0E-\x1F]/g;

function esc(s: string): string {
  return s.replace(CONTROL, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function buildXmp(labels: string[]): string {
  const li = (v: string) => `     <rdf:li>${esc(v)}</rdf:li>`;
  return `<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Sift">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:lr="http://ns.adobe.com/lightroom/1.0/">
   <dc:subject>
    <rdf:Bag>
${labels.map(li).join('\n')}
    </rdf:Bag>
   </dc:subject>
   <lr:hierarchicalSubject>
    <rdf:Bag>
${labels.map((l) => li(`Sift|${l}`)).join('\n')}
    </rdf:Bag>
   </lr:hierarchicalSubject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>
`;
}

function unesc(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

/** The values of an rdf:Bag property (`<dc:subject><rdf:Bag><rdf:li>…`) of an XMP packet, or null if it has none. */
function bagValues(xml: string, prop: string): { values: string[]; bagEnd: number } | null {
  const m = new RegExp(`<${prop}>\\s*<rdf:Bag>([\\s\\S]*?)</rdf:Bag>\\s*</${prop}>`).exec(xml);
  if (!m) return null;
  return { values: [...m[1].matchAll(/<rdf:li>([\s\S]*?)<\/rdf:li>/g)].map((x) => unesc(x[1])), bagEnd: m.index + m[0].lastIndexOf('</rdf:Bag>') };
}

/** The dc:subject keywords of an XMP packet (for tests and for reading back). */
export function readXmpSubjects(xml: string): string[] {
  return bagValues(xml, 'dc:subject')?.values ?? [];
}

/** Adds the values a bag property lacks; creates the property in the first rdf:Description when absent. */
function addToBag(xml: string, prefix: keyof typeof NS, local: string, values: string[]): string | null {
  const prop = `${prefix}:${local}`;
  const uses = (xml.match(new RegExp(`<${prop}[\\s/>]`, 'g')) ?? []).length;
  if (uses > 1) return null;
  if (uses === 1) {
    const bag = bagValues(xml, prop);
    if (!bag) return null;                       // an empty element, a Seq or Alt: not ours to rewrite
    const add = values.filter((v) => !bag.values.includes(v));
    if (!add.length) return xml;
    return xml.slice(0, bag.bagEnd) + add.map((v) => ` <rdf:li>${esc(v)}</rdf:li>\n    `).join('') + xml.slice(bag.bagEnd);
  }
  const d = /<rdf:Description\b((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>/.exec(xml);   // a '>' may sit in a quoted value
  if (!d) return null;
  // the prefix must be unbound or bound to the right namespace where the element goes (declared on the
  // Description itself or on an ancestor, whose start tags all come before)
  const scope = xml.slice(0, d.index + d[0].length);
  const bound = [...scope.matchAll(new RegExp(`xmlns:${prefix}\\s*=\\s*["']([^"']*)["']`, 'g'))].map((x) => x[1]);
  if (bound.some((u) => u !== NS[prefix])) return null;
  const attrs = d[1] + (bound.length ? '' : `\n    xmlns:${prefix}="${NS[prefix]}"`);
  const elem = `\n   <${prop}>\n    <rdf:Bag>\n${values.map((v) => `     <rdf:li>${esc(v)}</rdf:li>`).join('\n')}\n    </rdf:Bag>\n   </${prop}>`;
  const start = `<rdf:Description${attrs}>${elem}${d[2] === '/' ? '\n  </rdf:Description>' : ''}`;
  return xml.slice(0, d.index) + start + xml.slice(d.index + d[0].length);
}

/**
 * An existing XMP sidecar's text with the labels added as keywords (dc:subject, and lr:hierarchicalSubject under
 * "Sift|"), for the exported copy of that sidecar: everything else in it (ratings, edit history, other keywords)
 * is kept as it is. Null when the packet is not one this can edit safely (not well-formed XML, no
 * rdf:Description, the property in another form, a prefix bound elsewhere): the sidecar is then copied as is.
 */
export function mergeXmpKeywords(xml: string, rawLabels: string[]): string | null {
  const labels = rawLabels.map((l) => l.replace(CONTROL, ''));
  if (XMLValidator.validate(xml) !== true) return null;
  // markup inside comments or CDATA would fool the text edits below
  if (xml.includes('<!--') || xml.includes('<![CDATA[')) return null;
  // the Dublin Core or Lightroom namespace under another prefix (or as the default namespace): its subject
  // property may already be there under that name, and a second one would be invalid XMP
  for (const [prefix, uri] of Object.entries(NS)) {
    for (const m of xml.matchAll(/xmlns(?::([\w.-]+))?\s*=\s*["']([^"']*)["']/g)) if (m[2] === uri && m[1] !== prefix) return null;
  }
  const withDc = addToBag(xml, 'dc', 'subject', labels);
  const out = withDc === null ? null : addToBag(withDc, 'lr', 'hierarchicalSubject', labels.map((l) => `Sift|${l}`));
  if (out === null || XMLValidator.validate(out) !== true) return null;
  const got = readXmpSubjects(out);
  return labels.every((l) => got.includes(l)) ? out : null;
}
