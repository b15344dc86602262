// XMP sidecar with the labels as dc:subject keywords (read by digiKam, darktable, Lightroom) and as
// lr:hierarchicalSubject under "Sift|". Written next to the exported file; the original is never modified.
function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
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

/** The dc:subject keywords of an XMP packet (for tests and for reading back). */
export function readXmpSubjects(xml: string): string[] {
  const m = /<dc:subject>\s*<rdf:Bag>([\s\S]*?)<\/rdf:Bag>/.exec(xml);
  if (!m) return [];
  return [...m[1].matchAll(/<rdf:li>([\s\S]*?)<\/rdf:li>/g)].map((x) => x[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&'));
}
