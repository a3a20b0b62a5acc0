// 2. Officer sign-in: officer number and PIN on the keypad, checked by exhibitd.
import QtQuick

Item {
    id: root
    objectName: "screen_signin"
    readonly property var officer: kiosk.officer

    Column {
        id: fields
        width: parent.width * 0.5
        anchors { left: parent.left; top: parent.top }
        spacing: Theme.gap
        Body {
            width: parent.width
            text: qsTr("Type your officer number on the keypad, tap PIN and type your PIN.")
        }
        ErrorLine {
            objectName: "signInNotice"
            width: parent.width
            warning: true
            text: root.officer.notice
        }
        Repeater {
            model: [
                { name: "idField", field: "id", label: qsTr("Officer number") },
                { name: "pinField", field: "pin", label: qsTr("PIN") }
            ]
            delegate: Column {
                width: fields.width
                spacing: Theme.px(8)
                Text {
                    font.family: Theme.family
                    font.pixelSize: Theme.fontBody
                    font.bold: true
                    color: Theme.text
                    text: modelData.label
                }
                Rectangle {
                    objectName: modelData.name
                    width: parent.width
                    height: Theme.target
                    radius: Theme.radius
                    color: "#ffffff"
                    border.width: root.officer.field === modelData.field ? Theme.px(7) : Theme.px(3)
                    border.color: root.officer.field === modelData.field ? Theme.primary : Theme.border
                    Text {
                        objectName: modelData.name + "_text"
                        anchors { left: parent.left; leftMargin: Theme.px(24); verticalCenter: parent.verticalCenter }
                        font.family: Theme.family
                        font.pixelSize: Theme.fontLarge
                        font.letterSpacing: modelData.field === "pin" ? Theme.px(10) : 0
                        color: Theme.text
                        text: modelData.field === "pin" ? "●".repeat(root.officer.pinLength) : root.officer.typedId
                    }
                    TapHandler {
                        onTapped: root.officer.field = modelData.field
                    }
                }
            }
        }
        ErrorLine {
            objectName: "signInError"
            width: parent.width
            text: root.officer.error
        }
        Body {
            width: parent.width
            visible: root.officer.busy
            text: qsTr("Checking…")
        }
        Row {
            spacing: Theme.gap
            BigButton {
                objectName: "signInCancel"
                primary: false
                text: qsTr("Cancel")
                onClicked: kiosk.back()
            }
            BigButton {
                objectName: "signInSubmit"
                text: qsTr("Sign in")
                enabled_: !root.officer.busy && root.officer.typedId.length > 0 && root.officer.pinLength >= 4
                onClicked: root.officer.signIn()
            }
        }
    }
    Keypad {
        objectName: "keypad"
        anchors { right: parent.right; top: parent.top }
        keySize: Math.min(Theme.px(150), (root.height - 3 * Theme.px(18)) / 4 / 0.8)
        onKey: function(k) {
            root.officer.press(k)
            // after the number, the PIN: the officer types on without looking for the field
        }
    }
}
