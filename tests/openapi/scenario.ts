// The whole user scenario, written as an adopting team would with openapi-fetch against the types
// that openapi-typescript generates from /openapi/v1.json. It is only type-checked (tsc --strict,
// see check.sh): a wrong path, a missing path parameter, a wrong body or a misread answer fails.
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/schema";

type Picture = components["schemas"]["PictureJson"];
type EventType = components["schemas"]["PictureEvent"]["type"];

// openapi-typescript types a binary part as a string; the serializer sends the real Blob.
function multipart(file: Blob, title?: string): { body: { file: string; title?: string }; bodySerializer: () => FormData } {
  const form = new FormData();
  form.append("file", file, "picture.png");
  if (title !== undefined) form.append("title", title);
  return { body: { file: "picture.png", title }, bodySerializer: () => form };
}

export async function userScenario(baseUrl: string, token: string, image: Blob): Promise<Picture[]> {
  const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });
  const me = { userId: "me" };

  // Upload, then list.
  const uploaded = await api.POST("/api/users/{userId}/pictures", { params: { path: me, query: { activate: false } }, ...multipart(image, "Holiday") });
  if (!uploaded.data) throw new Error(uploaded.error?.detail ?? "upload failed");
  const first: Picture = uploaded.data;
  const width: number = first.width;
  const listed = await api.GET("/api/users/{userId}/pictures", { params: { path: me } });
  const pictures: Picture[] = listed.data ?? [];

  // Rename, clear the title, make it the avatar.
  const pictureId = first.id;
  await api.PATCH("/api/users/{userId}/pictures/{pictureId}", { params: { path: { ...me, pictureId } }, body: { title: "Beach" } });
  await api.PATCH("/api/users/{userId}/pictures/{pictureId}", { params: { path: { ...me, pictureId } }, body: { title: null } });
  const active = await api.PUT("/api/users/{userId}/active-picture", { params: { path: me }, body: { pictureId } });
  const isActive: boolean | undefined = active.data?.isActive;

  // Trash, restore, trash again, empty the trash.
  await api.DELETE("/api/users/{userId}/pictures/{pictureId}", { params: { path: { ...me, pictureId } } });
  const trash = await api.GET("/api/users/{userId}/trash", { params: { path: me } });
  const trashedAt: string | null | undefined = trash.data?.[0]?.deletedAt;
  await api.POST("/api/users/{userId}/trash/{pictureId}/restore", { params: { path: { ...me, pictureId } } });
  await api.DELETE("/api/users/{userId}/pictures/{pictureId}", { params: { path: { ...me, pictureId } } });
  const emptied = await api.DELETE("/api/users/{userId}/trash", { params: { path: me } });
  const deleted: number | undefined = emptied.data?.deleted;

  // Two-step upload: stage, preview, commit a crop inside the staged image.
  const staged = await api.POST("/api/uploads", multipart(image));
  if (!staged.data) throw new Error(staged.error?.detail ?? "staging failed");
  const side = Math.min(staged.data.width, staged.data.height);
  const preview = await api.GET("/api/uploads/{uploadId}/preview", { params: { path: { uploadId: staged.data.id } }, parseAs: "blob" });
  const previewBytes: Blob | undefined = preview.data;
  const committed = await api.POST("/api/uploads/{uploadId}/commit", {
    params: { path: { uploadId: staged.data.id } },
    body: { activate: true, crop: { x: 0, y: 0, width: side, height: side } },
  });
  // crop may be left out (the service's suggested square); openapi-typescript types activate as
  // required because the schema gives it a default.
  await api.POST("/api/uploads/{uploadId}/commit", { params: { path: { uploadId: staged.data.id } }, body: { activate: false } });

  // Events missed while away, after a known seq.
  const events = await api.GET("/api/users/{userId}/events", { params: { path: me, query: { after: 0, limit: 100 } } });
  const types: EventType[] = (events.data ?? []).map(e => e.type);
  const seqs: number[] = (events.data ?? []).map(e => e.seq);
  if (types.includes("PictureUploaded") && seqs.length === 0) throw new Error("unreachable");

  // The public image routes, with a conditional request.
  const avatar = await api.GET("/avatars/{userId}", {
    params: { path: { userId: first.userId }, query: { size: 64 }, header: { "If-None-Match": '"etag"' } }, parseAs: "blob",
  });
  const variant = await api.GET("/pictures/{pictureId}/{size}", { params: { path: { pictureId, size: "128" } }, parseAs: "blob" });
  const images: (Blob | undefined)[] = [avatar.data, variant.data, previewBytes];

  // Admin: webhook endpoints (create with and without an event filter, list, enable, delete) and jobs.
  const admin = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });
  const hook = await admin.POST("/api/admin/webhooks", { body: { url: "https://example.org/hooks", events: ["PictureUploaded"] } });
  await admin.POST("/api/admin/webhooks", { body: { url: "https://example.org/all" } });
  if (hook.error) {
    const status: number | undefined = hook.error.status ?? undefined; // 400/401/403/503 are problem details
    throw new Error(`webhook: ${status} ${hook.error.detail}`);
  }
  const secret: string = hook.data.secret;
  const hooks = await admin.GET("/api/admin/webhooks");
  const pending: number[] = (hooks.data ?? []).map(h => h.pendingCount);
  await admin.POST("/api/admin/webhooks/{id}/enable", { params: { path: { id: hook.data.id } } });
  await admin.DELETE("/api/admin/webhooks/{id}", { params: { path: { id: hook.data.id } } });
  const runs = await admin.GET("/api/admin/jobs/{name}/runs", { params: { path: { name: "trash-purge" }, query: { limit: 5 } } });
  const statuses: ("running" | "succeeded" | "partial" | "failed")[] = (runs.data ?? []).map(r => r.status);
  await admin.POST("/api/admin/uploads/cleanup", { body: { action: "list" } });

  void [width, isActive, trashedAt, deleted, committed, images, secret, pending, statuses];
  return pictures;
}
