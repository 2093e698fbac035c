/**
 * The tag hash code a ConsumeQueue entry carries: Java's `String.hashCode()` of the tag
 * (31-polynomial over UTF-16 code units, 32-bit signed overflow), as RocketMQ computes it.
 */
export function tagHashCode(tag: string): number {
  let h = 0;
  for (let i = 0; i < tag.length; i++) h = (Math.imul(h, 31) + tag.charCodeAt(i)) | 0;
  return h;
}
