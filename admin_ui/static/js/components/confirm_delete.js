// Deleting something the user named: ask first, then DELETE it and say how it went.
import { api } from "../lib/api.js";
import { confirmDialog } from "./dialog.js";
import { toast, toastError } from "./toast.js";

// `question` is {title, message, confirmLabel}; resolves true once `path` is deleted.
export async function confirmDelete(question, path, { done, failed }) {
  if (!(await confirmDialog({ ...question, danger: true }))) return false;
  try {
    await api.del(path);
    toast(done);
    return true;
  } catch (error) {
    toastError(failed, error);
    return false;
  }
}
