package web

import (
	"fmt"
	"net/http"

	"golang.org/x/text/language"

	"github.com/outreach-campaign/outreach/internal/supporters"
)

// languages the pages are written in, the first the default.
var languages = []string{"en", "it", "fr"}

var matcher = language.NewMatcher([]language.Tag{language.English, language.Italian, language.French})

// pageLang is the language of a page: ?lang= when it names one of ours,
// else the best match for Accept-Language, else English. (A form carries
// its page's language in a field of its own.)
func pageLang(r *http.Request) string {
	return negotiate(r, languages[0])
}

// negotiate is the language of a page that would otherwise be in
// fallback: ?lang= when it names one of ours, else the browser's
// preferred language (Accept-Language, by its q-values) when the pages
// speak it, else fallback when they speak that, else English.
func negotiate(r *http.Request, fallback string) string {
	if l := r.URL.Query().Get("lang"); l != "" && supporters.Language(l) == l {
		return l
	}
	if l := browserLang(r.Header.Get("Accept-Language")); l != "" {
		return l
	}
	if supporters.Language(fallback) == fallback {
		return fallback
	}
	return languages[0]
}

// browserLang is the best of the pages' languages for an Accept-Language
// header, or "" when it asks for none of them.
func browserLang(accept string) string {
	tags, _, err := language.ParseAcceptLanguage(accept)
	if err != nil || len(tags) == 0 {
		return ""
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No {
		return ""
	}
	return languages[i]
}

// translator returns the text of a message key in lang, filled in with
// args. Every key exists in every language (a test checks).
func translator(lang string) func(key string, args ...any) string {
	msgs := messages[lang]
	return func(key string, args ...any) string {
		s, ok := msgs[key]
		if !ok {
			s = messages["en"][key]
		}
		if len(args) == 0 {
			return s
		}
		return fmt.Sprintf(s, args...)
	}
}

// messages are the pages' words. Keys of field problems are
// "problem.CODE", with "problem.characters.name" for names.
var messages = map[string]map[string]string{
	"en": {
		"lang.name":               "English",
		"site":                    "Sister City Campaign",
		"site.description":        "Write to the mayors of cities twinned with South Korean local governments and ask them to urge their partners to end the dog and cat meat trade.",
		"act.title":               "Write to the %s",
		"act.intro":               "%s is twinned with %s in South Korea. In South Korea, dogs and cats are still slaughtered for meat, often against the country's own laws. Ask the %s to write to their Korean partner and urge it to end the dog and cat meat trade.",
		"act.mayor":               "Addressed to: %s.",
		"act.letter":              "Your letter asks the %s to write to %s and urge it to enforce the law and end the dog and cat meat trade. Add a few words of your own if you like.",
		"act.errors":              "Please correct the fields marked below.",
		"field.name":              "Your name",
		"field.email":             "Your e-mail address",
		"field.country":           "Your country",
		"field.city":              "Your city (optional)",
		"field.message":           "Your message (optional, at most %d characters)",
		"field.reply_consent":     "The %s's office may reply to me directly (it will see my e-mail address).",
		"field.website":           "Leave this field empty",
		"act.submit":              "Sign my letter",
		"act.privacy":             "We send you an e-mail to confirm your address: nothing reaches the office before you confirm. Your e-mail address is never shown to the office unless you tick the box above. We delete your details %d days after your letter is delivered.",
		"problem.required":        "Please fill this in.",
		"problem.too_long":        "This is too long: at most %d characters.",
		"problem.invalid":         "This is not an e-mail address.",
		"problem.line_break":      "Please write this on one line.",
		"problem.characters":      "This contains characters that are not allowed.",
		"problem.characters.name": "A name cannot contain <, > or @.",
		"sent.title":              "Check your inbox",
		"sent.body":               "We sent you an e-mail. Open the link in it to confirm your letter to the %s: nothing is sent before you do.",
		"sent.later":              "The link works for %d hours. Not there? Look in your spam folder.",
		"confirm.title":           "Confirm your letter",
		"confirm.body":            "Read the letter below before you confirm it. Once confirmed, it is delivered to the office of the %s.",
		"confirm.submit":          "Confirm my letter",
		"confirm.done":            "Thank you: your letter is confirmed. It will be delivered to the office of the %s.",
		"confirm.again":           "Your letter was already confirmed: there is nothing more to do.",
		"confirm.office":          "To",
		"confirm.signed":          "Signed",
		"confirm.message":         "Message",
		"confirm.no_message":      "(no personal message)",
		"confirm.replaces_none":   "Confirming this letter replaces no other letter.",
		"confirm.was_pending":     "Confirming this letter replaces the letter signed earlier with this address, which was never confirmed.",
		"confirm.was_confirmed":   "Confirming this letter replaces your letter confirmed on %s, which has not been delivered yet.",
		"confirm.replaced":        "Thank you: your new letter is confirmed and replaces the earlier one. It will be delivered to the office of the %s.",
		"withdraw.title":          "Withdraw your letter",
		"withdraw.body":           "Withdraw your letter to the %s? It will not be delivered and your details will be deleted.",
		"withdraw.submit":         "Withdraw my letter",
		"withdraw.done":           "Your letter is withdrawn and your details are deleted.",
		"withdraw.again":          "This letter was already withdrawn.",
		"optout.title":            "Stop the campaign's letters",
		"optout.body":             "Press the button to receive no further letters from this campaign at this address.",
		"optout.submit":           "Stop the letters",
		"optout.done":             "Done: this address will receive no further letters from this campaign.",
		"error.bad_optout":        "This request does not say List-Unsubscribe=One-Click.",
		"error.title":             "Sorry",
		"error.bad_link":          "This link is not valid. Please use the link exactly as it is in the e-mail.",
		"error.expired":           "This link has expired. An unconfirmed letter is deleted after a while; you are welcome to sign again.",
		"error.superseded":        "This letter was signed again with this address since this e-mail was sent, so this link no longer works. Please use the link in the newest e-mail.",
		"error.withdrawn":         "This letter was withdrawn.",
		"error.already_sent":      "This letter has already been sent to the office, so it can no longer be changed or withdrawn.",
		"error.no_campaign":       "This campaign does not take letters.",
		"error.rate_limited":      "Too many letters were signed from here or for this address. Please try again in %d minutes.",
		"error.csrf":              "This form has expired, or your browser did not send its cookie. Please reload the page and try again.",
		"error.not_found":         "There is no such page.",
		"error.internal":          "Something went wrong on our side. Please try again later.",
		"error.too_large":         "The form is too large.",
		"back":                    "Back to the letter",
		"relationship.sister":     "sister city",
		"relationship.friendship": "friendship city",
		"act.twinned":             "%s and %s: %s since %s",
		"act.error_title":         "Error: %s",
		"act.problem":             "%s: %s",
		"index.title":             "Write to a mayor",
		"index.intro":             "Each of these cities is twinned with a South Korean local government. Choose one and sign your letter asking its mayor to urge their Korean partner to end the dog and cat meat trade.",
		"index.twinned":           "twinned with %s",
		"index.signed.none":       "no letter signed yet",
		"index.signed.one":        "1 letter signed",
		"index.signed":            "%d letters signed",
		"index.empty":             "No campaign takes letters at the moment.",
		"index.all":               "All the campaigns",
	},
	"it": {
		"lang.name":               "Italiano",
		"site":                    "Sister City Campaign",
		"site.description":        "Scrivi ai sindaci delle città gemellate con enti locali sudcoreani e chiedi loro di esortare i partner a porre fine al commercio di carne di cane e di gatto.",
		"act.title":               "Scrivi al %s",
		"act.intro":               "Un gemellaggio unisce %s a %s, in Corea del Sud. In Corea del Sud cani e gatti vengono ancora macellati per la loro carne, spesso contro le leggi del Paese. Chiedi al %s di scrivere al suo partner coreano per esortarlo a porre fine al commercio di carne di cane e di gatto.",
		"act.mayor":               "Destinatario: %s.",
		"act.letter":              "La tua lettera chiede al %s di scrivere a %s per esortarlo a far rispettare la legge e a porre fine al commercio di carne di cane e di gatto. Se vuoi, aggiungi qualche parola tua.",
		"act.errors":              "Correggi i campi indicati qui sotto.",
		"field.name":              "Il tuo nome",
		"field.email":             "Il tuo indirizzo e-mail",
		"field.country":           "Il tuo Paese",
		"field.city":              "La tua città (facoltativo)",
		"field.message":           "Il tuo messaggio (facoltativo, al massimo %d caratteri)",
		"field.reply_consent":     "L'ufficio del %s può rispondermi direttamente (vedrà il mio indirizzo e-mail).",
		"field.website":           "Lascia vuoto questo campo",
		"act.submit":              "Firma la mia lettera",
		"act.privacy":             "Ti inviamo un'e-mail per confermare il tuo indirizzo: nulla arriva all'ufficio prima della tua conferma. Il tuo indirizzo e-mail non viene mostrato all'ufficio se non spunti la casella qui sopra. Cancelliamo i tuoi dati %d giorni dopo la consegna della lettera.",
		"problem.required":        "Compila questo campo.",
		"problem.too_long":        "Troppo lungo: al massimo %d caratteri.",
		"problem.invalid":         "Questo non è un indirizzo e-mail.",
		"problem.line_break":      "Scrivilo su una sola riga.",
		"problem.characters":      "Contiene caratteri non ammessi.",
		"problem.characters.name": "Un nome non può contenere <, > o @.",
		"sent.title":              "Controlla la tua casella di posta",
		"sent.body":               "Ti abbiamo inviato un'e-mail. Apri il link che contiene per confermare la tua lettera al %s: nulla viene inviato prima.",
		"sent.later":              "Il link è valido per %d ore. Non la trovi? Guarda nella cartella della posta indesiderata.",
		"confirm.title":           "Conferma la tua lettera",
		"confirm.body":            "Leggi la lettera qui sotto prima di confermarla. Una volta confermata, verrà consegnata all'ufficio del %s.",
		"confirm.submit":          "Conferma la mia lettera",
		"confirm.done":            "Grazie: la tua lettera è confermata. Verrà consegnata all'ufficio del %s.",
		"confirm.again":           "La tua lettera era già confermata: non c'è altro da fare.",
		"confirm.office":          "A",
		"confirm.signed":          "Firmata da",
		"confirm.message":         "Messaggio",
		"confirm.no_message":      "(nessun messaggio personale)",
		"confirm.replaces_none":   "Confermando questa lettera non ne sostituisci nessun'altra.",
		"confirm.was_pending":     "Confermando questa lettera sostituisci quella firmata prima con questo indirizzo, che non è mai stata confermata.",
		"confirm.was_confirmed":   "Confermando questa lettera sostituisci la tua lettera confermata il %s, che non è ancora stata consegnata.",
		"confirm.replaced":        "Grazie: la tua nuova lettera è confermata e sostituisce quella precedente. Verrà consegnata all'ufficio del %s.",
		"withdraw.title":          "Ritira la tua lettera",
		"withdraw.body":           "Vuoi ritirare la tua lettera al %s? Non verrà consegnata e i tuoi dati verranno cancellati.",
		"withdraw.submit":         "Ritira la mia lettera",
		"withdraw.done":           "La tua lettera è stata ritirata e i tuoi dati cancellati.",
		"withdraw.again":          "Questa lettera era già stata ritirata.",
		"optout.title":            "Interrompere le lettere della campagna",
		"optout.body":             "Premi il pulsante per non ricevere più lettere di questa campagna a questo indirizzo.",
		"optout.submit":           "Interrompi le lettere",
		"optout.done":             "Fatto: questo indirizzo non riceverà più lettere di questa campagna.",
		"error.bad_optout":        "Questa richiesta non contiene List-Unsubscribe=One-Click.",
		"error.title":             "Spiacenti",
		"error.bad_link":          "Questo link non è valido. Usa il link esattamente come appare nell'e-mail.",
		"error.expired":           "Questo link è scaduto. Una lettera non confermata viene cancellata dopo un po' di tempo; puoi firmare di nuovo.",
		"error.superseded":        "Questa lettera è stata firmata di nuovo con questo indirizzo dopo l'invio di questa e-mail, quindi questo link non vale più. Usa il link dell'e-mail più recente.",
		"error.withdrawn":         "Questa lettera è stata ritirata.",
		"error.already_sent":      "Questa lettera è già stata inviata all'ufficio: non può più essere modificata né ritirata.",
		"error.no_campaign":       "Questa campagna non accetta lettere.",
		"error.rate_limited":      "Troppe lettere firmate da qui o per questo indirizzo. Riprova tra %d minuti.",
		"error.csrf":              "Il modulo è scaduto, oppure il browser non ha inviato il suo cookie. Ricarica la pagina e riprova.",
		"error.not_found":         "Questa pagina non esiste.",
		"error.internal":          "Qualcosa non ha funzionato da parte nostra. Riprova più tardi.",
		"error.too_large":         "Il modulo è troppo grande.",
		"back":                    "Torna alla lettera",
		"relationship.sister":     "città gemellata",
		"relationship.friendship": "città amica",
		"act.twinned":             "%s e %s: %s dal %s",
		"act.error_title":         "Errore: %s",
		"act.problem":             "%s: %s",
		"index.title":             "Scrivi a un sindaco",
		"index.intro":             "Ognuna di queste città è gemellata con un ente locale sudcoreano. Scegline una e firma la tua lettera che chiede al sindaco di esortare il partner coreano a porre fine al commercio di carne di cane e di gatto.",
		"index.twinned":           "gemellata con %s",
		"index.signed.none":       "nessuna lettera firmata finora",
		"index.signed.one":        "1 lettera firmata",
		"index.signed":            "%d lettere firmate",
		"index.empty":             "Al momento nessuna campagna accetta lettere.",
		"index.all":               "Tutte le campagne",
	},
	"fr": {
		"lang.name":               "Français",
		"site":                    "Sister City Campaign",
		"site.description":        "Écrivez aux maires des villes jumelées avec des collectivités sud-coréennes et demandez-leur d'exhorter leurs partenaires à mettre fin au commerce de viande de chien et de chat.",
		"act.title":               "Écrivez au %s",
		"act.intro":               "Un jumelage unit %s à %s, en Corée du Sud. En Corée du Sud, des chiens et des chats sont encore abattus pour leur viande, souvent au mépris des lois du pays. Demandez au %s d'écrire à son partenaire coréen pour l'exhorter à mettre fin au commerce de viande de chien et de chat.",
		"act.mayor":               "Destinataire : %s.",
		"act.letter":              "Votre lettre demande au %s d'écrire à %s pour l'exhorter à faire appliquer la loi et à mettre fin au commerce de viande de chien et de chat. Ajoutez quelques mots si vous le souhaitez.",
		"act.errors":              "Veuillez corriger les champs signalés ci-dessous.",
		"field.name":              "Votre nom",
		"field.email":             "Votre adresse électronique",
		"field.country":           "Votre pays",
		"field.city":              "Votre ville (facultatif)",
		"field.message":           "Votre message (facultatif, %d caractères au plus)",
		"field.reply_consent":     "Le cabinet du %s peut me répondre directement (il verra mon adresse électronique).",
		"field.website":           "Laissez ce champ vide",
		"act.submit":              "Signer ma lettre",
		"act.privacy":             "Nous vous envoyons un courriel pour confirmer votre adresse : rien ne parvient au cabinet avant votre confirmation. Votre adresse n'est montrée au cabinet que si vous cochez la case ci-dessus. Nous supprimons vos coordonnées %d jours après la remise de votre lettre.",
		"problem.required":        "Veuillez remplir ce champ.",
		"problem.too_long":        "C'est trop long : %d caractères au plus.",
		"problem.invalid":         "Ce n'est pas une adresse électronique.",
		"problem.line_break":      "Veuillez l'écrire sur une seule ligne.",
		"problem.characters":      "Ce champ contient des caractères non autorisés.",
		"problem.characters.name": "Un nom ne peut contenir ni <, ni >, ni @.",
		"sent.title":              "Consultez votre boîte de réception",
		"sent.body":               "Nous vous avons envoyé un courriel. Ouvrez le lien qu'il contient pour confirmer votre lettre au %s : rien n'est envoyé avant.",
		"sent.later":              "Le lien est valable %d heures. Rien reçu ? Regardez dans vos courriels indésirables.",
		"confirm.title":           "Confirmez votre lettre",
		"confirm.body":            "Lisez la lettre ci-dessous avant de la confirmer. Une fois confirmée, elle sera remise au cabinet du %s.",
		"confirm.submit":          "Confirmer ma lettre",
		"confirm.done":            "Merci : votre lettre est confirmée. Elle sera remise au cabinet du %s.",
		"confirm.again":           "Votre lettre était déjà confirmée : il n'y a plus rien à faire.",
		"confirm.office":          "À",
		"confirm.signed":          "Signée par",
		"confirm.message":         "Message",
		"confirm.no_message":      "(pas de message personnel)",
		"confirm.replaces_none":   "Confirmer cette lettre n'en remplace aucune autre.",
		"confirm.was_pending":     "Confirmer cette lettre remplace celle signée plus tôt avec cette adresse, qui n'a jamais été confirmée.",
		"confirm.was_confirmed":   "Confirmer cette lettre remplace votre lettre confirmée le %s, qui n'a pas encore été remise.",
		"confirm.replaced":        "Merci : votre nouvelle lettre est confirmée et remplace la précédente. Elle sera remise au cabinet du %s.",
		"withdraw.title":          "Retirer votre lettre",
		"withdraw.body":           "Retirer votre lettre au %s ? Elle ne sera pas remise et vos coordonnées seront supprimées.",
		"withdraw.submit":         "Retirer ma lettre",
		"withdraw.done":           "Votre lettre est retirée et vos coordonnées sont supprimées.",
		"withdraw.again":          "Cette lettre avait déjà été retirée.",
		"optout.title":            "Ne plus recevoir les lettres de la campagne",
		"optout.body":             "Appuyez sur le bouton pour ne plus recevoir de lettres de cette campagne à cette adresse.",
		"optout.submit":           "Ne plus recevoir de lettres",
		"optout.done":             "C'est fait : cette adresse ne recevra plus de lettres de cette campagne.",
		"error.bad_optout":        "Cette demande ne contient pas List-Unsubscribe=One-Click.",
		"error.title":             "Désolé",
		"error.bad_link":          "Ce lien n'est pas valable. Utilisez le lien exactement tel qu'il figure dans le courriel.",
		"error.expired":           "Ce lien a expiré. Une lettre non confirmée est supprimée au bout d'un certain temps ; vous pouvez signer à nouveau.",
		"error.superseded":        "Cette lettre a été signée de nouveau avec cette adresse depuis l'envoi de ce courriel : ce lien ne vaut plus. Utilisez le lien du courriel le plus récent.",
		"error.withdrawn":         "Cette lettre a été retirée.",
		"error.already_sent":      "Cette lettre a déjà été envoyée au cabinet : elle ne peut plus être modifiée ni retirée.",
		"error.no_campaign":       "Cette campagne n'accepte pas de lettres.",
		"error.rate_limited":      "Trop de lettres ont été signées d'ici ou pour cette adresse. Réessayez dans %d minutes.",
		"error.csrf":              "Ce formulaire a expiré, ou votre navigateur n'a pas envoyé son cookie. Rechargez la page et réessayez.",
		"error.not_found":         "Cette page n'existe pas.",
		"error.internal":          "Un problème est survenu de notre côté. Veuillez réessayer plus tard.",
		"error.too_large":         "Le formulaire est trop volumineux.",
		"back":                    "Retour à la lettre",
		"relationship.sister":     "ville jumelle",
		"relationship.friendship": "ville amie",
		"act.twinned":             "%s et %s : %s depuis %s",
		"act.error_title":         "Erreur : %s",
		"act.problem":             "%s : %s",
		"index.title":             "Écrivez à un maire",
		"index.intro":             "Chacune de ces villes est jumelée avec une collectivité locale sud-coréenne. Choisissez-en une et signez votre lettre demandant à son maire d'exhorter son partenaire coréen à mettre fin au commerce de viande de chien et de chat.",
		"index.twinned":           "jumelée avec %s",
		"index.signed.none":       "aucune lettre signée pour l'instant",
		"index.signed.one":        "1 lettre signée",
		"index.signed":            "%d lettres signées",
		"index.empty":             "Aucune campagne n'accepte de lettres pour le moment.",
		"index.all":               "Toutes les campagnes",
	},
}
