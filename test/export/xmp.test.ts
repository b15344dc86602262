// mergeXmpKeywords: the labels added to an existing XMP sidecar's text, or null when it cannot be done safely.
import { describe, expect, it } from 'vitest';
import { XMLValidator } from 'fast-xml-parser';
import { buildXmp, mergeXmpKeywords, readXmpSubjects } from '../../src/export/xmp.ts';

const RDF = 'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"';
const packet = (desc: string) => `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF ${RDF}>${desc}</rdf:RDF></x:xmpmeta>`;
const DC = 'xmlns:dc="http://purl.org/dc/elements/1.1/"';

describe('mergeXmpKeywords', () => {
  it('adds the labels the bag lacks, keeps everything else, and is idempotent', () => {
    const xml = packet(`<rdf:Description rdf:about="" ${DC} xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="4"><dc:subject><rdf:Bag><rdf:li>holiday</rdf:li><rdf:li>Cats</rdf:li></rdf:Bag></dc:subject></rdf:Description>`);
    const out = mergeXmpKeywords(xml, ['Cats', 'A & <B>', 'Zürich'])!;
    expect(XMLValidator.validate(out)).toBe(true);
    expect(readXmpSubjects(out)).toEqual(['holiday', 'Cats', 'A & <B>', 'Zürich']);
    expect(out).toContain('xmp:Rating="4"');
    expect(out).toContain('<rdf:li>Sift|Zürich</rdf:li>');
    expect(mergeXmpKeywords(out, ['Cats', 'A & <B>', 'Zürich'])).toBe(out);
  });

  it('creates the bags in a self-closing Description, declaring the namespaces', () => {
    const out = mergeXmpKeywords(packet('<rdf:Description rdf:about=""/>'), ['Dogs'])!;
    expect(XMLValidator.validate(out)).toBe(true);
    expect(readXmpSubjects(out)).toEqual(['Dogs']);
    expect(out).toContain(DC);
    expect(out).toContain('xmlns:lr="http://ns.adobe.com/lightroom/1.0/"');
  });

  it('finds the end of the start tag past a ">" inside a quoted attribute value', () => {
    const xml = packet(`<rdf:Description rdf:about="" ${DC} xmlns:lr="http://ns.adobe.com/lightroom/1.0/" xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/" xmpMM:DerivedFrom="a>b.jpg">\n</rdf:Description>`);
    const out = mergeXmpKeywords(xml, ['Cats'])!;
    expect(out).toContain('xmpMM:DerivedFrom="a>b.jpg">');
    expect(readXmpSubjects(out)).toEqual(['Cats']);
  });

  it('drops control characters from the labels (not allowed in XML)', () => {
    expect(readXmpSubjects(mergeXmpKeywords(packet('<rdf:Description rdf:about=""/>'), ['Ca\u0001ts'])!)).toEqual(['Cats']);
    expect(readXmpSubjects(buildXmp(['Ca\u0001ts']))).toEqual(['Cats']);
  });

  it('returns null where an edit could be wrong: not XML, no Description, comments, another prefix for dc, a Seq, an empty bag', () => {
    expect(mergeXmpKeywords('<x:xmpmeta>not <closed</x:xmpmeta>', ['a'])).toBeNull();
    expect(mergeXmpKeywords('<x:xmpmeta xmlns:x="adobe:ns:meta/">old</x:xmpmeta>', ['a'])).toBeNull();
    expect(mergeXmpKeywords(packet('<!-- <dc:subject> --><rdf:Description rdf:about=""/>'), ['a'])).toBeNull();
    expect(mergeXmpKeywords(packet('<rdf:Description rdf:about="" xmlns:d="http://purl.org/dc/elements/1.1/"><d:subject><rdf:Bag><rdf:li>x</rdf:li></rdf:Bag></d:subject></rdf:Description>'), ['a'])).toBeNull();
    expect(mergeXmpKeywords(packet(`<rdf:Description rdf:about="" ${DC}><dc:subject><rdf:Seq><rdf:li>x</rdf:li></rdf:Seq></dc:subject></rdf:Description>`), ['a'])).toBeNull();
    expect(mergeXmpKeywords(packet(`<rdf:Description rdf:about="" ${DC}><dc:subject><rdf:Bag/></dc:subject></rdf:Description>`), ['a'])).toBeNull();
    expect(mergeXmpKeywords(packet('<rdf:Description rdf:about="" xmlns:dc="urn:something-else"/>'), ['a'])).toBeNull();
  });
});
