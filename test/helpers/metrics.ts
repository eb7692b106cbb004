/** Reading Prometheus's text exposition format, as a scraper would. */

export interface Scrape {
  status: number;
  contentType: string | null;
  text: string;
}

export async function scrape(url: string, key?: string): Promise<Scrape> {
  const response = await fetch(`${url}/metrics`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  return { status: response.status, contentType: response.headers.get("content-type"), text: await response.text() };
}

/** Each sample line: its metric name, labels and value. */
export function samples(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  return text
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const [, name, labelText = "", value] = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line) ?? [];
      const labels = Object.fromEntries([...labelText.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, label, text]) => [label, text]));
      return { name, labels, value: Number(value) };
    });
}

/** The sum of the samples of `name` whose labels include `labels` (0 when there is none). */
export function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number {
  return samples(text)
    .filter((sample) => sample.name === name && Object.entries(labels).every(([label, value]) => sample.labels[label] === value))
    .reduce((sum, sample) => sum + sample.value, 0);
}
