import Link from "next/link";

export default function NotFound() {
  return (
    <main>
      <h1>Not found</h1>
      <p>
        Symbols are 1 to 12 capital letters or digits. <Link href="/">Back to the list</Link>
      </p>
    </main>
  );
}
