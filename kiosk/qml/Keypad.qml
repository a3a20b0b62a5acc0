// A numeric keypad for the officer number and the PIN: big keys, no hardware keyboard.
import QtQuick

Grid {
    id: pad
    signal key(string k)
    columns: 3
    spacing: Theme.px(18)
    property int keySize: Theme.px(150)
    Repeater {
        model: ["1", "2", "3", "4", "5", "6", "7", "8", "9", "clear", "0", "back"]
        delegate: BigButton {
            objectName: "key_" + modelData
            width: pad.keySize * 1.3
            height: Math.max(48, pad.keySize * 0.8)
            implicitWidth: width
            primary: false
            fontSize: modelData.length === 1 ? Theme.fontHuge * 0.8 : Theme.fontSmall
            text: modelData === "clear" ? qsTr("Clear") : modelData === "back" ? qsTr("⌫ Delete") : modelData
            onClicked: pad.key(modelData)
        }
    }
}
